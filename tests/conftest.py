"""Fixtures shared by the test files.

``tiny_run``: the tiny run configuration that the experiment tests (training, resume, safety, command line,
analysis) train and measure in about a second on one CPU thread; each file passes the fields it changes.
"""

import copy

import pytest

# Gaussian data in 6 dimensions, a two-layer MLP denoiser with dropout, 30 Adam steps, 6 snapshots of 50 samples
# drawn with a 3-step sampler (3 of them kept for display, at 2 snapshots).
TINY_RUN = {
    "name": "tiny",
    "threads": 1,
    "data": {"name": "gaussian", "dim": 6, "n_train": 128},
    "model": {"kind": "mlp", "nlayers": 2, "nhidden": 16, "time_embed_dim": 8, "dropout": 0.1},
    "train": {"steps": 30, "batch_size": 16, "lr": 3e-3},
    "eval": {
        "n_snapshots": 6,
        "n_samples": 50,
        "sampler_steps": 3,
        "batch_size": 20,
        "n_show": 3,
        "n_show_snapshots": 2,
    },
}


def with_overrides(base: dict, overrides: dict) -> dict:
    """A deep copy of ``base`` in which each section named in ``overrides`` (a dict such as ``train``) has the
    given fields replaced and the others kept; a top-level value (``name``, ``device``) is replaced whole."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(copy.deepcopy(value))
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture(scope="session")
def tiny_run():
    """Factory of run configurations as plain (JSON-ready) dicts: ``tiny_run(train={"steps": 40}, name="t")`` is
    :data:`TINY_RUN` with those fields replaced, a fresh copy at every call."""

    def make(**overrides) -> dict:
        return with_overrides(TINY_RUN, overrides)

    return make
