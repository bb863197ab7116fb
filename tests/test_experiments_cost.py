"""experiments.cost: FLOP counts of a preset against the count by hand from the layer sizes."""

import pytest

from spectral_bias.experiments import config_from_dict
from spectral_bias.experiments.cost import run_flops

CFG = {
    "name": "c",
    "data": {"name": "gaussian", "dim": 16, "n_train": 64},
    "model": {"kind": "mlp", "nlayers": 2, "nhidden": 32, "time_embed_dim": 8},
    "train": {"steps": 10, "batch_size": 4},
    "eval": {"n_snapshots": 3, "n_samples": 5, "sampler_steps": 4, "n_show": 2},
}


def test_mlp_flops_match_the_layer_count():
    f = run_flops(config_from_dict(CFG))
    d, h, e = 16, 32, 8  # data dim, hidden width, embedding width; 2 blocks
    # per sample, forward: embedding Linear(e, e); per block lin1 (in x h), FiLM Linear(e, 2h), lin2 (h x h),
    # skip Linear(d, h) in the first block (widths differ); final Linear(h, d). 2 FLOPs per multiply-add.
    emb = e * e + 2 * (e * 2 * h)  # the noise embedding and FiLM maps: once per batch when sampling
    macs = emb + (d * h + h * h + d * h) + (h * h + h * h) + h * d
    nfe = 2 * 4 - 1
    batch = 5  # min(eval.batch_size, n_samples)
    assert f["sample"] == pytest.approx(2 * (macs - emb + emb / batch) * nfe)
    # training: σ per sample, so the embedding is per sample; backward = weight gradient + input gradient for
    # every product, except the input gradients nobody needs: of the skip map applied to the data x itself and of
    # the first embedding map applied to the fixed Fourier features
    full = macs - emb + emb
    assert f["train_step"] == pytest.approx(2 * (3 * full - d * h - e * e) * 4)
    assert f["total"] == pytest.approx(f["train_total"] + f["measure_total"])
    assert f["train_total"] == pytest.approx(10 * f["train_step"])
