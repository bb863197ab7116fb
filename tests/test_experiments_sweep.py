"""The budgeted sweep (the GPU-lease command), end to end on a CPU with tiny presets: a budget too short stops
cleanly, the same command then finishes every run, and finished runs are not repeated."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spectral_bias.experiments.sweep import run_sweep, smoke_config

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ["paper-gaussian512-mlp", "paper-patches-cnn-narrow"]


def test_smoke_configs_are_tiny_versions_of_the_presets():
    for name in PRESETS:
        d = smoke_config(name)
        assert d["name"] == name and d["train"]["steps"] <= 10 and d["train"]["checkpoint_every"] == 1


def test_sweep_stops_at_the_budget_and_resumes(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHON": sys.executable}
    cmd = [
        "bash",
        str(ROOT / "scripts" / "gpu_sweep.sh"),
        *PRESETS,
        "--smoke",
        "--smoke-steps",
        "1000000",
        "--out",
        str(tmp_path),
        "--budget-min",
        "0.3",
    ]
    for attempt in (1, 2):  # a run far longer than the budget: stopped, later resumed from its checkpoint
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        rows = json.loads((tmp_path / "sweep_summary.json").read_text())
        assert rows[0]["state"] == "stopped at the budget (resumable)", rows
        assert rows[0]["resumed"] == (attempt == 2) and rows[1]["state"].startswith("not started")
        assert not (tmp_path / PRESETS[0] / "results.json").exists()


def test_sweep_finishes_every_run_and_skips_finished_ones(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHON": sys.executable}
    r = subprocess.run(
        [
            "bash",
            str(ROOT / "scripts" / "gpu_sweep.sh"),
            *PRESETS,
            "--smoke",
            "--out",
            str(tmp_path),
            "--budget-min",
            "3",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    rows = json.loads((tmp_path / "sweep_summary.json").read_text())
    assert [row["state"] for row in rows] == ["done", "done"]
    for name in PRESETS:
        info = json.loads((tmp_path / name / "results.json").read_text())
        assert info["timings"]["steps_per_s"] > 0 and info["timings"]["samples_per_s"] > 0
    rows = run_sweep(PRESETS, tmp_path, budget_s=60, smoke=True)
    assert [row["state"] for row in rows] == ["already done", "already done"]
    assert "steps_per_s" in r.stdout and "paper-patches-cnn-narrow" in r.stdout


def test_bad_sweep_arguments():
    with pytest.raises(ValueError, match="budget"):
        run_sweep(PRESETS, "unused", budget_s=0)
    with pytest.raises(ValueError, match="unknown preset"):
        run_sweep(["paper-nope"], "unused", budget_s=10)
    r = subprocess.run(
        [sys.executable, "-m", "spectral_bias.experiments.sweep", "paper-nope"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
    )
    assert r.returncode == 2 and r.stderr.startswith("error: unknown preset") and "Traceback" not in r.stderr


def _popen(code):
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_run_is_waited_for_then_stopped_then_killed(tmp_path, monkeypatch):
    import time

    from spectral_bias.experiments import sweep

    assert sweep._wait_until(_popen("pass"), time.monotonic() + 60, tmp_path) == "done"
    state = sweep._wait_until(_popen("raise SystemExit(3)"), time.monotonic() + 60, tmp_path)
    assert state == f"failed (exit 3, see {tmp_path / 'sweep.log'})"
    # past the deadline: SIGTERM, which a run answers by checkpointing and exiting
    p = _popen("import time; time.sleep(60)")
    assert sweep._wait_until(p, time.monotonic(), tmp_path) == "stopped at the budget (no checkpoint yet)"
    assert p.returncode == -15
    # a run that ignores SIGTERM is killed GRACE_S later
    monkeypatch.setattr(sweep, "GRACE_S", 0.5)
    (tmp_path / "checkpoint.pt").write_bytes(b"")
    p = _popen("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)")
    time.sleep(0.5)  # let it install its handler
    assert sweep._wait_until(p, time.monotonic(), tmp_path) == "stopped at the budget (resumable)"
    assert p.returncode == -9


def test_run_command_resumes_and_sets_bf16(tmp_path):
    from spectral_bias.experiments import sweep

    cmd = sweep._run_command("cpu-gaussian-mlp", tmp_path, "cpu", resume=False, bf16=False)
    run = ["-m", "spectral_bias.experiments", "run", "cpu-gaussian-mlp"]
    assert cmd[1:] == run + ["--out", str(tmp_path), "--device", "cpu", "--no-progress"]
    cmd = sweep._run_command("c.json", tmp_path, "cuda", resume=True, bf16=True)
    assert cmd[0] == sys.executable and cmd[-4:] == ["--no-progress", "--resume", "--set", "train.bf16=true"]
