"""Nothing lost, nothing silently wrong: verified plain-data checkpoints (tampered, truncated, edited, foreign),
resume that refuses a changed config, no silent overwrite, checkpoints on SIGINT/SIGTERM and by time, kills at
random moments then resume (bit-identical to an uninterrupted run), a NaN loss named with its step,
``stop_after=0``, atomic results with no temporary files left behind, and an honest progress total."""

import errno
import hashlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from spectral_bias.experiments import config_from_dict, load_results, run_experiment
from spectral_bias.experiments import train as train_mod
from spectral_bias.experiments.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

SRC = str(Path(__file__).resolve().parents[1] / "src")
# this file's run: the shared tiny run in 5 dimensions, 32 samples per snapshot, 2 of them shown
SAFETY_RUN = {"data": {"dim": 5}, "eval": {"n_samples": 32, "n_show": 2}}


@pytest.fixture(scope="module")
def cfg(tiny_run):
    """This file's run as a config; ``cfg(lr=...)`` replaces fields of its train section."""
    return lambda **train: config_from_dict(tiny_run(train=train, **SAFETY_RUN))


def same_results(a_dir, b_dir):
    a, b = load_results(a_dir), load_results(b_dir)
    assert set(a) == set(b)
    for k in a:
        if k != "info":
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def leftovers(folder):
    return sorted(p.name for p in Path(folder).rglob("*") if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cfg):
    d = tmp_path_factory.mktemp("ref")
    run_experiment(cfg(), d, progress=False)
    return d


# --- checkpoints: plain data only, hashed, refused when tampered with ---


def test_checkpoint_is_plain_data_and_round_trips(tmp_path, reference):
    ck = reference / "checkpoint.pt"  # written at the end even with checkpoint_every = 0 (as in the cpu-* presets)
    env = torch.load(ck, weights_only=True)  # the envelope itself loads without running code
    raw = env["payload"].numpy().tobytes()
    assert hashlib.sha256(raw).hexdigest() == env["sha256"]
    state = torch.load(io.BytesIO(raw), weights_only=True)  # and so does the state inside it
    assert state["step"] == 30 and state["config"]["train"]["lr"] == 3e-3
    assert isinstance(state["rng"]["numpy"]["keys"], torch.Tensor)
    assert load_checkpoint(ck)["step"] == 30


def _rewrite(src, dst, edit):
    env = torch.load(src, weights_only=True)
    edit(env)
    torch.save(env, dst)


def test_edited_checkpoint_is_refused(tmp_path, reference):
    def flip(env):
        p = env["payload"].clone()
        p[len(p) // 2] ^= 0xFF
        env["payload"] = p

    _rewrite(reference / "checkpoint.pt", tmp_path / "edited.pt", flip)
    with pytest.raises(CheckpointError, match="corrupted or was edited"):
        load_checkpoint(tmp_path / "edited.pt")


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ.get('SB_PWNED', '/nonexistent/pwned')}",))


def test_checkpoint_with_code_is_refused_without_running_it(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("SB_PWNED", str(marker))
    # code inside a correctly hashed payload ...
    buf = io.BytesIO()
    torch.save({"step": 1, "x": _Evil()}, buf)
    raw = buf.getvalue()
    torch.save(
        dict(
            format="spectral_bias-checkpoint/1",
            sha256=hashlib.sha256(raw).hexdigest(),
            payload=torch.frombuffer(bytearray(raw), dtype=torch.uint8),
        ),
        tmp_path / "inner.pt",
    )
    with pytest.raises(CheckpointError, match="more than plain data"):
        load_checkpoint(tmp_path / "inner.pt")
    # ... and in the envelope
    torch.save({"format": "spectral_bias-checkpoint/1", "x": _Evil()}, tmp_path / "outer.pt")
    with pytest.raises(CheckpointError, match="more than plain data"):
        load_checkpoint(tmp_path / "outer.pt")
    assert not marker.exists()


@pytest.mark.parametrize("keep", [0, 10, 1000, -100])
def test_truncated_checkpoint_is_refused(tmp_path, reference, keep):
    data = (reference / "checkpoint.pt").read_bytes()
    (tmp_path / "t.pt").write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(tmp_path / "t.pt")


def test_foreign_checkpoint_is_refused(tmp_path):
    torch.save({"model": {}, "step": 3}, tmp_path / "old.pt")  # e.g. written by an older version
    with pytest.raises(CheckpointError, match="not a spectral_bias-checkpoint/1 file"):
        load_checkpoint(tmp_path / "old.pt")
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="state must be a dict"):
        save_checkpoint(tmp_path / "x.pt", [1, 2])


# --- resume and the run folder ---


def test_resume_refuses_a_changed_config_naming_the_fields(tmp_path, cfg):
    assert run_experiment(cfg(), tmp_path, stop_after=7, progress=False) is None
    with pytest.raises(
        ValueError,
        match=r"different config: train\.lr: 0\.003 in the checkpoint, 0\.001 now; "
        r"train\.steps: 30 in the checkpoint, 40 now",
    ):
        run_experiment(cfg(lr=1e-3, steps=40), tmp_path, resume=True, progress=False)
    # what only changes how it runs may change
    c = cfg()
    c.threads, c.description = 2, "resumed elsewhere"
    assert run_experiment(c, tmp_path, resume=True, progress=False)["steps"][-1] == 30


def test_fresh_run_refuses_a_used_folder_unless_overwrite(tmp_path, reference, cfg):
    d = tmp_path / "run"
    run_experiment(cfg(), d, stop_after=3, progress=False)
    before = (d / "checkpoint.pt").read_bytes()
    with pytest.raises(FileExistsError, match="already holds a run.*--resume.*--overwrite"):
        run_experiment(cfg(), d, progress=False)
    assert (d / "checkpoint.pt").read_bytes() == before  # untouched
    with pytest.raises(ValueError, match="resume and overwrite exclude each other"):
        run_experiment(cfg(), d, resume=True, overwrite=True, progress=False)
    run_experiment(cfg(), d, overwrite=True, progress=False)
    same_results(reference, d)
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*without --resume"):
        run_experiment(cfg(), tmp_path / "empty", resume=True, progress=False)


def test_stop_after_zero_runs_no_step_and_resumes_identically(tmp_path, reference, cfg):
    calls = []
    real = train_mod.edm_loss
    try:
        train_mod.edm_loss = lambda *a, **k: calls.append(1) or real(*a, **k)
        assert run_experiment(cfg(), tmp_path, stop_after=0, progress=False) is None
    finally:
        train_mod.edm_loss = real
    assert calls == []
    ck = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ck["step"] == 0 and not ck["measurements"] and float(ck["losses"].abs().sum()) == 0
    run_experiment(cfg(), tmp_path, resume=True, progress=False)
    same_results(reference, tmp_path)
    with pytest.raises(ValueError, match="stop_after must be an integer >= 0"):
        run_experiment(cfg(), tmp_path / "x", stop_after=-1, progress=False)


def test_time_based_checkpoints_when_checkpoint_every_is_zero(tmp_path, monkeypatch, cfg):
    saved = []
    real = train_mod.save_checkpoint
    monkeypatch.setattr(train_mod, "save_checkpoint", lambda p, st: saved.append(st["step"]) or real(p, st))
    run_experiment(cfg(), tmp_path, progress=False, checkpoint_seconds=1e-9)
    assert saved == list(range(1, 31)) + [30]  # after every step (time elapsed), and the finished state


def test_signal_writes_checkpoint_then_resume_is_identical(tmp_path, reference, monkeypatch, cfg):
    real, n = train_mod.edm_loss, [0]

    def loss_then_sigterm(*a, **k):
        n[0] += 1
        if n[0] == 12:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives mid-step: the step completes, then the loop stops
        return real(*a, **k)

    monkeypatch.setattr(train_mod, "edm_loss", loss_then_sigterm)
    with pytest.raises(train_mod.RunInterrupted, match="SIGTERM received: checkpoint written at step 12") as ei:
        run_experiment(cfg(), tmp_path, progress=False)
    assert ei.value.step == 12 and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    monkeypatch.setattr(train_mod, "edm_loss", real)
    run_experiment(cfg(), tmp_path, resume=True, progress=False)
    same_results(reference, tmp_path)


def test_nan_loss_stops_with_its_step(tmp_path, monkeypatch, cfg):
    real, n = train_mod.edm_loss, [0]

    def diverging(*a, **k):
        n[0] += 1
        loss = real(*a, **k)
        return loss * float("nan") if n[0] == 9 else loss

    monkeypatch.setattr(train_mod, "edm_loss", diverging)
    with pytest.raises(FloatingPointError, match=r"loss became NaN at step 8 \(train\.lr=0\.003"):
        run_experiment(cfg(), tmp_path, progress=False)
    assert not (tmp_path / "results.npz").exists()


def test_non_finite_samples_stop_with_their_step(tmp_path, monkeypatch, cfg):
    real, n = train_mod.heun_sample, [0]

    def exploding(model, noise, sigmas):
        n[0] += 1
        out = real(model, noise, sigmas)
        return out * float("inf") if n[0] >= 5 else out  # 2 batches per snapshot: the 5th is snapshot 3, step 2

    monkeypatch.setattr(train_mod, "heun_sample", exploding)
    with pytest.raises(FloatingPointError, match="generated samples became non-finite at step 2"):
        run_experiment(cfg(), tmp_path, progress=False)


def test_disk_full_leaves_no_partial_or_temporary_file(tmp_path, reference, monkeypatch, cfg):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train_mod.np, "savez_compressed", full)
    with pytest.raises(OSError, match="No space left"):
        run_experiment(cfg(), tmp_path, progress=False)
    assert not (tmp_path / "results.npz").exists() and leftovers(tmp_path) == []
    monkeypatch.undo()
    run_experiment(cfg(), tmp_path, resume=True, progress=False)  # the final checkpoint was kept
    same_results(reference, tmp_path)
    # a failing checkpoint write keeps the previous checkpoint and removes its temporary file
    before = (tmp_path / "checkpoint.pt").read_bytes()
    monkeypatch.setattr(torch, "save", lambda *a, **k: full())
    with pytest.raises(OSError):
        save_checkpoint(tmp_path / "checkpoint.pt", {"step": 1})
    assert (tmp_path / "checkpoint.pt").read_bytes() == before and leftovers(tmp_path) == []


_CHILD = """
import json, sys
from spectral_bias.experiments import config_from_dict, run_experiment
cfg = config_from_dict(json.loads(sys.argv[1]))
run_experiment(cfg, sys.argv[2], resume=sys.argv[3] == "1", progress=False, checkpoint_seconds=0.05)
"""


@pytest.mark.slow
def test_kill_at_random_moments_then_resume_is_bit_identical(tmp_path, tiny_run):
    # a longer run in a child process, killed (SIGTERM: clean stop; SIGKILL: no warning) at random moments,
    # resumed until it finishes; the result must equal an uninterrupted run's
    d = tiny_run(train={"steps": 400}, **SAFETY_RUN)
    run_experiment(config_from_dict(d), tmp_path / "ref", progress=False)
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    rng = random.Random(1)
    out = tmp_path / "killed"
    kills = []
    ck = out / "checkpoint.pt"
    for sig in (signal.SIGTERM, signal.SIGKILL, signal.SIGTERM, None):
        resume = ck.exists()
        mtime = ck.stat().st_mtime_ns if resume else 0
        p = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(d), str(out), "1" if resume else "0"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        if sig is not None:  # wait until this process is training (it has written a checkpoint), then kill it
            t_end = time.monotonic() + 60
            while (
                time.monotonic() < t_end and p.poll() is None and not (ck.exists() and ck.stat().st_mtime_ns != mtime)
            ):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))
            p.send_signal(sig)
        err = p.communicate(timeout=120)[1]
        kills.append((None if sig is None else sig.name, p.returncode))
        if p.returncode == 0:
            break
        assert sig is not None, err
        if p.returncode == 1:  # SIGTERM inside the training loop (after it, the default handler ends the process)
            assert "RunInterrupted: SIGTERM received: checkpoint written" in err, (kills, err)
    assert kills[0] == ("SIGTERM", 1) and kills[1] == ("SIGKILL", -9), kills  # both kills hit a training loop
    assert (out / "results.npz").exists() and leftovers(out) == [], kills
    same_results(tmp_path / "ref", out)


def test_progress_total_counts_sampling(cfg):
    c = cfg()
    snaps = len(train_mod.snapshot_steps(30, 6))
    pr = train_mod._Progress(c, snaps, 30, 0, enabled=False)
    est = train_mod._sampling_cost(c)
    assert est == pytest.approx(32 * 5 / (3 * 16))
    assert pr.total() == pytest.approx(30 + snaps * est)
    # after timing: a snapshot took 0.5 s, 10 steps took 0.1 s → 50 step-equivalents per snapshot
    pr.snapshot(0.0, 0, 0.0, 0)  # the first snapshot, before any step: estimate kept
    for _ in range(10):
        pr.step()
    pr.snapshot(0.5, 1, 0.1, 10)
    assert pr.cost == pytest.approx(50.0)
    assert pr.total() == pytest.approx(2 * est + 10 + 20 + (snaps - 2) * 50.0)
    pr.close()
