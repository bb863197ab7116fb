"""experiments.mechanism: the local-filter fit recovers a denoiser that is a local linear filter, and saved
snapshots reload into the same model (weights-only files)."""

import numpy as np
import pytest
import torch

from spectral_bias.experiments import config_from_dict, run_experiment
from spectral_bias.experiments.mechanism import denoiser_grid, load_snapshot_model, local_filter_fit, saved_steps
from spectral_bias.nets import EDMPrecond


class ConvBackbone(torch.nn.Module):
    def __init__(self, taps):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, taps.shape[-1], padding=taps.shape[-1] // 2, bias=True)
        self.conv.weight.data[:] = torch.as_tensor(taps, dtype=torch.float32)
        self.conv.bias.data[:] = 0.3

    def forward(self, x, c_noise):
        return self.conv(x)


def test_a_local_linear_denoiser_is_explained_exactly_by_its_filter_size():
    rng = np.random.default_rng(0)
    taps = rng.standard_normal((1, 1, 3, 3))
    model = EDMPrecond(ConvBackbone(taps)).eval()
    x = rng.standard_normal((20, 1, 10, 10)).cumsum(2)
    fit = local_filter_fit(model, x, 0.8, patch_sizes=(1, 3, 5))
    assert fit["r2"][3] > 1 - 1e-9 and fit["r2"][5] > 1 - 1e-9 and fit["r2_learned"][3] > 1 - 1e-9
    assert fit["r2_learned"][1] < 0.9  # one tap cannot mix neighbours
    # the whole denoiser's filter: c_skip δ + c_out c_in K
    s, sd = 0.8, 0.5
    c_skip, c_out, c_in = sd**2 / (s**2 + sd**2), s * sd / np.sqrt(s**2 + sd**2), 1 / np.sqrt(s**2 + sd**2)
    expect = c_out * c_in * taps[0, 0]
    expect[1, 1] += c_skip
    np.testing.assert_allclose(fit["filters"][3], expect, atol=1e-5)
    with pytest.raises(ValueError, match="patch_sizes"):
        local_filter_fit(model, x, 0.8, patch_sizes=(2,))


def test_saved_snapshots_reload_and_grid(tmp_path):
    cfg = config_from_dict(
        {
            "name": "t",
            "threads": 1,
            "device": "cpu",
            "data": {"name": "mnist-1k", "n_train": 64, "resolution": 8},
            "model": {"kind": "cnn", "base_channels": 4, "channel_mult": [1, 2], "time_embed_dim": 8},
            "train": {"steps": 3, "batch_size": 8},
            "eval": {
                "n_snapshots": 3,
                "n_samples": 8,
                "sampler_steps": 3,
                "n_show": 2,
                "n_show_snapshots": 2,
                "save_weights": True,
            },
        }
    )
    run_experiment(cfg, tmp_path, progress=False)
    assert saved_steps(tmp_path) == [0, 3]
    model, _ = load_snapshot_model(tmp_path, 3)
    state = torch.load(tmp_path / "weights" / "step_0000003.pt", weights_only=True)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    g = denoiser_grid(tmp_path, np.zeros((1, 8, 8)), [0.1, 1.0])
    assert g["denoised"].shape == (2, 2, 1, 8, 8) and np.all(np.isfinite(g["denoised"]))
    with pytest.raises(FileNotFoundError, match="saved steps"):
        load_snapshot_model(tmp_path, 2)
