"""bfloat16 autocast of the training step (train.bf16, for GPUs): it is really engaged, and what is measured
(the generated variances, sampled and measured in float32) stays within the sampling error of the float32 run."""

import numpy as np

from spectral_bias.experiments import config_from_dict, run_experiment

CFG = {
    "name": "b",
    "threads": 1,
    "device": "cpu",
    "data": {"name": "gaussian", "dim": 8, "n_train": 512},
    "model": {"kind": "mlp", "nlayers": 2, "nhidden": 32, "time_embed_dim": 8},
    "train": {"steps": 60, "batch_size": 64, "lr": 3e-3},
    "eval": {
        "n_snapshots": 4,
        "n_samples": 2000,
        "batch_size": 1000,
        "sampler_steps": 10,
        "n_show": 0,
        "n_show_snapshots": 0,
    },
}


def test_bf16_training_measures_like_fp32(tmp_path):
    ref = run_experiment(config_from_dict(CFG), tmp_path / "fp32", progress=False)
    cfg = dict(CFG, train=dict(CFG["train"], bf16=True))
    low = run_experiment(config_from_dict(cfg), tmp_path / "bf16", progress=False)
    assert not np.array_equal(ref["losses"], low["losses"])  # autocast changed the arithmetic
    np.testing.assert_allclose(low["losses"], ref["losses"], rtol=0.05)  # ... by bf16 rounding only
    # the measurement: same noise bank, float32 sampler; the two runs' generated variances differ by less than
    # 3 standard errors of a measured variance, sqrt(2/(n-1)) relative
    se = np.sqrt(2 / (CFG["eval"]["n_samples"] - 1))
    np.testing.assert_allclose(low["gen_var"], ref["gen_var"], rtol=3 * se)
