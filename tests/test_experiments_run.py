"""End-to-end: training + measurement, bit-identical resume, the command line (subprocess), analysis."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spectral_bias.experiments import analyze_run, config_from_dict, load_results, run_experiment

SRC = str(Path(__file__).resolve().parents[1] / "src")
# this file's run: the shared tiny run with more data, steps, snapshots and samples, a checkpoint every 7 steps
RUN = {
    "data": {"n_train": 256},
    "train": {"steps": 40, "batch_size": 32, "checkpoint_every": 7},
    "eval": {"n_snapshots": 8, "n_samples": 64, "sampler_steps": 4, "batch_size": 40, "n_show_snapshots": 3},
}


@pytest.fixture(scope="module")
def tiny(tiny_run):
    """This file's run configuration (a plain dict)."""
    return tiny_run(**RUN)


def _arrays_equal(a, b):
    assert set(a) == set(b)
    for k in a:
        if k != "info":
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, tiny):
    d = tmp_path_factory.mktemp("full")
    return d, run_experiment(config_from_dict(tiny), d, progress=False)


@pytest.mark.parametrize("stop_at", [7, 13])  # at a periodic checkpoint, and between two of them
def test_resume_is_bit_identical(tmp_path, full_run, stop_at, tiny):
    cfg = config_from_dict(tiny)
    full_dir, full = full_run
    assert run_experiment(cfg, tmp_path / "cut", stop_after=stop_at, progress=False) is None
    assert not (tmp_path / "cut" / "results.npz").exists()
    resumed = run_experiment(cfg, tmp_path / "cut", resume=True, progress=False)
    _arrays_equal(load_results(full_dir), load_results(tmp_path / "cut"))
    assert resumed["info"]["config"] == full["info"]["config"]


def test_run_outputs_and_measurement_consistency(tmp_path, full_run, tiny):
    full_dir, res = full_run
    T = len(res["steps"])
    assert res["steps"][0] == 0 and res["steps"][-1] == 40
    assert res["gen_var"].shape == (T, 6) and np.all(res["gen_var"] > 0)
    assert np.all((res["chi"] > 0) & (res["chi"] <= 1))
    assert res["show_samples"].shape == (3, 3, 6) and list(res["show_steps"]) == [0, res["steps"][T // 2], 40]
    assert res["losses"].shape == (40,) and np.all(np.isfinite(res["losses"]))
    info = json.loads((full_dir / "results.json").read_text())
    assert info["config"]["name"] == "tiny" and info["package_version"]
    # provenance: the command, the machine, the timings a cost table needs
    assert info["command"] and info["machine"]["cpu_count"] and info["device"] == "cpu"
    t = info["timings"]
    assert t["steps_per_s"] > 0 and t["samples_per_s"] > 0 and t["peak_rss_mib"] > 0
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        run_experiment(config_from_dict(tiny), tmp_path / "empty", resume=True, progress=False)


def test_analysis_recovers_inverse_variance_law_from_synthetic_trajectories(tmp_path, full_run):
    # write a fake run whose trajectories follow the linear theory with τ* ∝ 1/λ, and check the fitted α ≈ 1
    from spectral_bias import theory

    full_dir, res = full_run
    (tmp_path / "results.json").write_text((full_dir / "results.json").read_text())
    lam = np.geomspace(3.0, 0.03, 6)
    times = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 60)])
    gv = np.stack([theory.one_layer_generated_variance(lam, t, eta=1.0, q=0.1) for t in times])
    np.savez(
        tmp_path / "results.npz",
        **{
            **{k: v for k, v in res.items() if k != "info"},
            "times": times,
            "steps": np.arange(61),
            "gen_var": gv,
            "eigenvalues": lam,
            "chi": np.ones(61),
            "mean_err": np.zeros(61),
        },
    )
    s = analyze_run(tmp_path)["summary"]
    f = s["fits"]["geometric"]["gray-zone"]["increasing"]
    assert f["n"] == 6 and 0.8 < f["alpha"] < 1.2  # theory.md §3.5: α ≈ 1 up to log corrections
    assert (tmp_path / "analysis.json").exists()
    # both null models, with the same fits (criteria x rules x branches) as the run itself
    assert set(s["baselines"]) == {"edm-preconditioned", "one-layer"}
    for b in s["baselines"].values():
        assert {c: {r: set(v) for r, v in rules.items()} for c, rules in b.items()} == {
            c: {r: set(v) for r, v in rules.items()} for c, rules in s["fits"].items()
        }
    assert s["crossed"]["geometric"]["n_crossed"] == 6 and s["crossed"]["geometric"]["fraction"] == 1.0


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "spectral_bias.experiments", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_run_resume_analyze_list(tmp_path, full_run, capsys, tiny):
    from spectral_bias.experiments.__main__ import main

    cfgp = tmp_path / "tiny.json"
    cfgp.write_text(json.dumps(tiny))
    # real subprocesses: a run stopped after 20 steps, then resumed, ends identical to the uninterrupted run
    r = _cli("run", str(cfgp), "--out", "b", "--stop-after", "20", "--no-progress", cwd=tmp_path)
    assert r.returncode == 0 and "--resume" in r.stdout, r.stderr
    r = _cli("run", str(cfgp), "--out", "b", "--resume", "--no-progress", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "alignment chi" in r.stdout and (tmp_path / "b" / "results.npz").exists()
    _arrays_equal(load_results(full_run[0]), load_results(tmp_path / "b"))
    # the other commands, in-process (same entry point)
    assert main(["analyze", str(tmp_path / "b")]) == 0 and "geometric" in capsys.readouterr().out
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "cpu-gaussian-mlp" in out and "paper-mnist-mlp" in out
    assert main(["run", "no-such-preset"]) == 2
    assert "unknown preset 'no-such-preset'" in capsys.readouterr().err


def test_conv_run_measurements_match_bruteforce_on_stored_samples(tmp_path):
    # a tiny conv-UNet run on image patches; with n_show = n_samples the last snapshot's samples are stored, so
    # the streamed whole-image and patch measurements can be recomputed by brute force (np.cov in the data bases)
    from spectral_bias.experiments import empirical_spectrum, extract_patches, load_training_data

    cfg = config_from_dict(
        {
            "name": "tiny-cnn",
            "threads": 1,
            "data": {"name": "patches", "n_train": 64, "resolution": 8},
            "model": {"kind": "cnn", "base_channels": 4, "channel_mult": [1, 2], "time_embed_dim": 8},
            "train": {"steps": 3, "batch_size": 8, "lr": 1e-3},
            "eval": {
                "n_snapshots": 3,
                "n_samples": 24,
                "sampler_steps": 3,
                "batch_size": 10,
                "n_show": 24,
                "n_show_snapshots": 2,
                "patch_size": 4,
                "patch_stride": 2,
            },
        }
    )
    res = run_experiment(cfg, tmp_path, progress=False)
    x, spec = load_training_data(cfg.data)
    pspec = empirical_spectrum(extract_patches(x, 4, 2))
    S = res["show_samples"][-1].astype(np.float64)  # (24, 1, 8, 8), last snapshot
    assert res["show_steps"][-1] == 3
    U = spec.eigenvectors
    np.testing.assert_allclose(
        res["gen_var"][-1], np.diag(U.T @ np.cov(S.reshape(24, -1).T) @ U), rtol=1e-4, atol=1e-8
    )  # float32 samples
    P = extract_patches(S, 4, 2)
    V = pspec.eigenvectors
    np.testing.assert_allclose(res["patch_gen_var"][-1], np.diag(V.T @ np.cov(P.T) @ V), rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(res["patch_eigenvalues"], pspec.eigenvalues)
