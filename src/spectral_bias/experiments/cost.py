"""What a run costs: floating-point operations counted by torch (``torch.utils.flop_counter``) for one training
step and for sampling, so the cost of a preset on any machine can be estimated from its sustained FLOP rate
(chapter 11)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from .config import ExperimentConfig
from .train import build_model, snapshot_steps

__all__ = ["run_flops"]


def _sample_shape(cfg: ExperimentConfig) -> tuple:
    if cfg.data.name == "gaussian":
        return (int(cfg.data.dim),)
    res = cfg.data.resolution or 28
    shape = (cfg.data.channels, res, res)
    return (shape[0] * res * res,) if cfg.model.kind == "mlp" else shape


def run_flops(cfg: ExperimentConfig) -> dict:
    """FLOPs of a preset, counted on its actual model (matrix products and convolutions; elementwise work is not
    counted): ``train_step`` (forward + backward of one batch of the EDM loss), ``sample`` (one image: 2·steps − 1
    network evaluations of Heun, the noise embedding shared by a batch of eval.batch_size), ``train_total`` and
    ``measure_total`` (every snapshot's noise bank), ``total``.
    Raises ValueError for an invalid config."""
    cfg.validate()
    from ..nets import edm_loss

    shape = _sample_shape(cfg)
    torch.manual_seed(0)
    model = build_model(cfg, shape)
    x = torch.randn((2,) + shape)
    with FlopCounterMode(display=False) as fc:
        edm_loss(model, x).backward()
    train_per_sample = fc.get_total_flops() / 2
    # the sampler passes one σ per batch, so the noise embedding is computed once per batch: count a batch of 1
    # and of 2 to split the per-batch part a from the per-sample part b, flops(B) = a + b B
    counts = []
    for b in (1, 2):
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            model(x[:b], torch.tensor(1.0))
        counts.append(fc.get_total_flops())
    per_sample, per_batch = counts[1] - counts[0], 2 * counts[0] - counts[1]
    batch = min(cfg.eval.batch_size, cfg.eval.n_samples)
    nfe_per_sample = per_sample + per_batch / batch
    nfe = 2 * cfg.eval.sampler_steps - 1
    n_snap = len(snapshot_steps(cfg.train.steps, cfg.eval.n_snapshots))
    train_step = train_per_sample * cfg.train.batch_size
    sample = nfe_per_sample * nfe
    out = dict(
        train_step=train_step,
        sample=sample,
        train_total=train_step * cfg.train.steps,
        measure_total=sample * cfg.eval.n_samples * n_snap,
    )
    out["total"] = out["train_total"] + out["measure_total"]
    return out
