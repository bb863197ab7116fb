"""The linear null models of experiments.analysis, checked against the networks' own machinery: an EDM-wrapped
torch module whose per-mode weight is the linear model's, sampled with nets.heun_sample on the run's schedule,
must generate the baseline's variances (same preconditioning, same sampler, same end point)."""

import numpy as np
import pytest
import torch

from spectral_bias import theory
from spectral_bias.experiments import load_config
from spectral_bias.experiments.analysis import (
    baseline_analyses,
    crossing_summary,
    emergence_analysis,
    linear_theory_analysis,
)
from spectral_bias.nets import EDMPrecond, edm_sigma_steps, heun_sample


class LinearBackbone(torch.nn.Module):
    """F such that c_skip x + c_out F(c_in x, c_noise) = w(σ) x per coordinate, w from the linear theory."""

    def __init__(self, lam, tau, sigma_data=0.5):
        super().__init__()
        self.lam, self.tau, self.sd = np.asarray(lam), tau, sigma_data

    def forward(self, x_in, c_noise):
        sigma = float(torch.exp(4 * c_noise.double()).reshape(-1)[0])
        c_skip, c_out, c_in = theory.edm_preconditioning(sigma, sigma_data=self.sd)
        w = theory.preconditioned_weight(self.lam, sigma, self.tau, sigma_data=self.sd)
        return x_in * torch.as_tensor((w - c_skip) / (c_out * c_in), dtype=x_in.dtype)


@pytest.mark.parametrize("preset", ["paper-gaussian128-mlp", "mid-patches-cnn-wide"])
def test_edm_baseline_is_what_the_runs_sampler_generates(preset):
    cfg = load_config(preset)
    lam = np.geomspace(3.0, 1e-3, 6)
    base = linear_theory_analysis(
        lam,
        model="edm-preconditioned",
        sigma_min=cfg.eval.sigma_min,
        sigma_max=cfg.eval.sigma_max,
        sampler_steps=cfg.eval.sampler_steps,
        rho=cfg.eval.rho,
        p_mean=cfg.train.P_mean,
        p_std=cfg.train.P_std,
        sigma_data=cfg.model.sigma_data,
        rel_floor=0.0,
        n_times=20,
    )
    sig = edm_sigma_steps(cfg.eval.sampler_steps, cfg.eval.sigma_min, cfg.eval.sigma_max, cfg.eval.rho)
    for i in (0, 8, 14, 20):  # τ = 0 (the untrained, c_skip-only denoiser) and three training times
        model = EDMPrecond(LinearBackbone(lam, base["times"][i]), cfg.model.sigma_data).double()
        # the sampler is linear: a unit start per mode gives σ_0 Π g exactly (no sampling noise)
        out = heun_sample(model, torch.ones(1, lam.size, dtype=torch.float64), sig).numpy()[0]
        np.testing.assert_allclose(out**2, base["gen_var"][i], rtol=1e-9)


def test_one_layer_baseline_is_prop_4_2_and_recovers_alpha_one():
    lam = np.geomspace(10, 1e-3, 30)
    b = linear_theory_analysis(lam, model="one-layer", q=0.1, rel_floor=0.0)
    np.testing.assert_allclose(
        b["gen_var"], theory.one_layer_generated_variance(lam[None, :], b["times"][:, None], eta=1.0, q=0.1), rtol=1e-12
    )
    # Chapter 5: at Q = 0.1 every mode grows and the geometric criterion reads α ≈ 1 (0.98 … 1.02 there)
    f = b["geometric"]["fits"]["gray-zone"]["increasing"]
    assert 0.95 < f["alpha"] < 1.06 and b["geometric"]["fits"]["gray-zone"]["decreasing"] is None


def test_baselines_use_the_runs_protocol():
    cfg = load_config("paper-gaussian128-mlp").to_dict()
    cfg["train"]["P_mean"], cfg["eval"]["sampler_steps"] = 0.5, 7
    lam = np.array([2.0, 0.5, 0.01])
    b = baseline_analyses(lam, cfg)
    assert set(b) == {"edm-preconditioned", "one-layer"}
    sig = theory.edm_sigma_schedule(7, append_zero=True)
    ref = theory.heun_generated_variance(
        theory.preconditioned_weight, lam[None, :], b["edm-preconditioned"]["times"][:, None], sig, p_mean=0.5
    )
    np.testing.assert_allclose(b["edm-preconditioned"]["gen_var"], ref, rtol=1e-12)
    with pytest.raises(ValueError, match="model must be one of"):
        linear_theory_analysis(lam, model="two-layer")


def test_crossing_summary_counts_censored_modes():
    t = np.linspace(0, 1, 50)
    lam = np.array([1.0, 0.5, 0.2, 0.1])
    k = np.array([40.0, 20.0, 2.0, 0.5])  # the last two are still far from their target at t = 1
    traj = lam[None, :] + (1e-2 - lam[None, :]) * np.exp(-k[None, :] * t[:, None])
    an = emergence_analysis(t, traj, lam, smooth=None, n_boot=10)
    c = crossing_summary(an)["geometric"]
    # geometric threshold sqrt(0.01 λ): crossed when e^{-k t} <= (λ - sqrt(0.01 λ))/(λ - 0.01): k t >= ~0.1-0.4
    expected = np.sum(k * 1.0 >= -np.log((lam - np.sqrt(0.01 * lam)) / (lam - 0.01)))
    assert c["n_modes"] == 4 and c["n_increasing"] == 4 and c["n_crossed"] == expected


def test_conv_theory_analysis_measures_the_circulant_model_in_the_given_basis():
    from spectral_bias.experiments.analysis import conv_theory_analysis

    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 1, 4, 4)).cumsum(2)
    cfg = load_config("mid-patches-cnn-narrow").to_dict()
    lam = np.linspace(2.0, 1.0, 16)  # targets only; the basis is the pixel basis
    out = conv_theory_analysis(x, lam, np.eye(16), cfg, patch_sizes=(3,), n_times=12)
    lam_f = theory.fourier_variances_from_samples(x[:, 0])
    sig = theory.edm_sigma_schedule(cfg["eval"]["sampler_steps"], append_zero=True)
    t = out["circulant"]["times"]
    gv_f = theory.heun_generated_variance(
        theory.preconditioned_weight, lam_f.ravel()[None, :], t[:, None], sig, eta=16.0
    )
    # along a pixel e_i, |F^* e_i|^2 = 1/N at every frequency: the pixel variance is the mean Fourier variance
    np.testing.assert_allclose(out["circulant"]["gen_var"], np.repeat(gv_f.mean(1)[:, None], 16, 1), rtol=1e-10)
    assert set(out) == {"patch3", "circulant"} and "own_limit" in out["patch3"]
    with pytest.raises(ValueError, match="grey"):
        conv_theory_analysis(np.zeros((5, 3, 4, 4)), lam, np.eye(16), cfg)


def test_committed_runs_and_read_only_analysis(tmp_path, tiny_run):
    from spectral_bias.experiments import config_from_dict, run_experiment
    from spectral_bias.experiments.analysis import analyze_run, committed_runs

    small = {
        "data": {"dim": 4, "n_train": 64},
        "model": {"nlayers": 1, "nhidden": 8, "time_embed_dim": 4, "dropout": 0.0},
        "train": {"steps": 4, "batch_size": 8, "lr": 1e-4},
        "eval": {"n_snapshots": 3, "n_samples": 8, "batch_size": 1024, "n_show": 0, "n_show_snapshots": 0},
    }
    cfg = config_from_dict(tiny_run(name="t", device="cpu", **small))
    for seed in (2, 0):
        run_experiment(cfg, tmp_path / "results" / "t" / f"seed{seed}", progress=False)
    (tmp_path / "results" / "t" / "seedx").mkdir()
    runs = committed_runs("t", tmp_path / "results")
    assert [p.name for p in runs] == ["seed0", "seed2"] and committed_runs("nope", tmp_path / "results") == []
    # by default: the results shipped with the package (a checkout's data/results is the same folder)
    shipped = committed_runs("paper-gaussian128-mlp")
    assert shipped and shipped[0].parent.parent.name == "_results" and (shipped[0] / "results.npz").is_file()
    before = {p: p.stat().st_mtime_ns for p in runs[0].iterdir()}
    assert analyze_run(runs[0], write=False)["summary"]["name"] == "t"
    assert {p: p.stat().st_mtime_ns for p in runs[0].iterdir()} == before and not (runs[0] / "analysis.json").exists()


def test_format_summary_table_by_hand():
    """Every line of the table, written out by hand from a summary with known numbers (rounding, column widths,
    a branch with too few modes, a table left out when absent or empty)."""
    from spectral_bias.experiments import format_summary

    fit = {"alpha": 1.234, "ci_alpha": [1.0, 1.5], "r2": 0.987, "n": 12}
    summary = {
        "name": "demo",
        "final_chi": 0.98765,
        "final_mean_err": 0.012345,
        "final_median_ratio": 1.5,
        "fits": {"geometric": {"gray-zone": {"increasing": fit, "decreasing": None}}},
        "patch_fits": None,
        "linear_theory_fits": {
            "harmonic": {"authors": {"increasing": {"alpha": 0.5, "ci_alpha": [0.456, 0.5449], "r2": 1.0, "n": 3}}}
        },
        "timings": {"setup_s": 0.04, "train_s": 12.345, "measure_s": 1.26},
    }
    assert format_summary(summary).split("\n") == [
        "run demo: final alignment chi = 0.988, mean error = 0.0123, median gen_var/lambda = 1.500",
        "  modes       geometric gray-zone increasing alpha = 1.23  95% CI [1.00, 1.50]  R2 = 0.99  N = 12",
        "  modes       geometric gray-zone decreasing too few modes",
        "  linear thy  harmonic  authors   increasing alpha = 0.50  95% CI [0.46, 0.54]  R2 = 1.00  N = 3",
        "  timings: setup 0.0 s, train 12.3 s, measure 1.3 s",
    ]
    del summary["patch_fits"], summary["linear_theory_fits"]
    assert len(format_summary(summary).split("\n")) == 4
