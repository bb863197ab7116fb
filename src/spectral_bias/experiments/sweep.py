"""A prioritised sweep of presets on one machine within a wall-clock budget (chapter 11): the command to run
during a short GPU lease.

    python -m spectral_bias.experiments.sweep [PRESET ...] [--budget-min 9] [--out runs/sweep] [--device auto]
    python -m spectral_bias.experiments.sweep --smoke --budget-min 1     # the whole path, tiny, on a CPU

Each preset runs as its own ``python -m spectral_bias.experiments run`` process in ``OUT/<preset>/`` (resumed
with ``--resume`` when a checkpoint is there), in the given order, until the budget is spent: the running
process then gets SIGTERM (it checkpoints and exits) and, 60 s later, SIGKILL. Every finished run has its
results written; an unfinished one continues from its checkpoint the next time the same command runs. The data
files each preset needs are checked before anything starts. At the end a table gives each run's state, steps/s,
samples/s, peak GPU memory and mean GPU utilisation (sampled with nvidia-smi when it exists).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .config import load_config

__all__ = ["DEFAULT_PRESETS", "main", "run_sweep", "smoke_config"]

DEFAULT_PRESETS = (
    "paper-gaussian512-mlp",
    "paper-gaussian256-mlp",
    "paper-gaussian128-mlp",
    "paper-mnist-mlp",
    "paper-patches-cnn-narrow",
    "paper-patches-cnn-wide",
    "paper-patches-mlp",
    "paper-mnist32-cnn",
    "paper-fashion-mnist-mlp",
)
GRACE_S = 60


def smoke_config(name: str, steps: int = 6) -> dict:
    """A preset shrunk to seconds (same data, architecture kind and measurement path; tiny sizes, ``steps``
    training steps, a checkpoint every step), for testing the sweep itself on a CPU."""
    d = load_config(name).to_dict()
    d["name"] = name
    d["data"]["n_train"] = min(d["data"]["n_train"], 256)
    if d["data"].get("dim"):
        d["data"]["dim"] = 8
    if d["data"].get("resolution"):
        d["data"]["resolution"] = 8
    if d["model"]["kind"] == "mlp":
        d["model"].update(nlayers=2, nhidden=16, time_embed_dim=8)
    else:
        d["model"].update(time_embed_dim=8, base_channels=4, channel_mult=[1, 2], attn_resolutions=[])
    d["train"].update(steps=int(steps), batch_size=8, checkpoint_every=1)
    d["eval"].update(
        n_snapshots=3, n_samples=16, batch_size=16, sampler_steps=3, n_show=2, n_show_snapshots=2, extra_patch_sizes=[]
    )
    if d["eval"]["patch_size"]:
        d["eval"].update(patch_size=min(d["eval"]["patch_size"], 4), patch_stride=2)
    return d


def _data_need(name: str) -> str | None:
    """The data a preset reads, with the command that fetches it (None for synthetic data)."""
    data = load_config(name).data.name
    if data in ("gaussian", "mnist-1k", "digits", "faces", "patches"):
        return None
    return data


def _data_present(name: str) -> bool:
    from .. import data as sbdata

    try:
        sbdata.load_uint8(name, n=1)
    except sbdata.DataNotFoundError:
        return False
    return True


class _GpuMonitor:
    """Samples GPU utilisation (%) every 2 s with nvidia-smi, if present."""

    def __init__(self):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._exe = shutil.which("nvidia-smi")
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.wait(2.0):
            try:
                out = subprocess.run(
                    [self._exe, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                    capture_output=True,
                    text=True,
                    timeout=5,
                ).stdout.split()
                self.samples.append(float(out[0]))
            except (OSError, subprocess.SubprocessError, ValueError, IndexError):
                pass

    def __enter__(self):
        if self._exe:
            self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()

    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None


def _run_command(cfg_arg: str, out: Path, device: str, resume: bool, bf16: bool) -> list[str]:
    """The ``python -m spectral_bias.experiments run`` command line of one preset."""
    cmd = [sys.executable, "-m", "spectral_bias.experiments", "run", cfg_arg, "--out", str(out), "--device", device]
    return cmd + ["--no-progress"] + (["--resume"] if resume else []) + (["--set", "train.bf16=true"] if bf16 else [])


def _wait_until(p: subprocess.Popen, deadline: float, out: Path) -> str:
    """Wait for the run until ``deadline`` (time.monotonic); past it send SIGTERM (the run checkpoints and exits)
    and, GRACE_S later, SIGKILL. Returns the run's state in words."""
    try:
        p.wait(timeout=max(deadline - time.monotonic(), 1.0))
        return "done" if p.returncode == 0 else f"failed (exit {p.returncode}, see {out / 'sweep.log'})"
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if (out / "checkpoint.pt").is_file():
        return "stopped at the budget (resumable)"
    return "stopped at the budget (no checkpoint yet)"


def _run_one(name: str, cfg_arg: str, out: Path, deadline: float, device: str, log, bf16: bool = False) -> dict:
    """Run one preset in its own process (resumed if a checkpoint is there) until it ends or the deadline;
    returns its row: state, wall time, mean GPU utilisation, and for a finished run its speeds and peak memory."""
    resume = (out / "checkpoint.pt").is_file()
    t0 = time.monotonic()
    with _GpuMonitor() as mon, open(out / "sweep.log", "a") as f:
        p = subprocess.Popen(_run_command(cfg_arg, out, device, resume, bf16), stdout=f, stderr=subprocess.STDOUT)
        state = _wait_until(p, deadline, out)
    row = dict(
        preset=name, state=state, wall_s=round(time.monotonic() - t0, 1), gpu_util_mean=mon.mean(), resumed=resume
    )
    if (out / "results.json").is_file() and state == "done":
        t = json.loads((out / "results.json").read_text())["timings"]
        row.update({k: t.get(k) for k in ("steps_per_s", "samples_per_s", "peak_gpu_mib", "peak_rss_mib")})
    print(f"{name}: {state} ({row['wall_s']} s)", file=log, flush=True)
    return row


def run_sweep(
    presets=DEFAULT_PRESETS,
    out_root: str | Path = "runs/sweep",
    *,
    budget_s: float = 540.0,
    device: str = "auto",
    smoke: bool = False,
    smoke_steps: int = 6,
    bf16: bool = False,
    log=sys.stdout,
) -> list[dict]:
    """Run ``presets`` in order in ``out_root/<preset>/`` until ``budget_s`` seconds have passed (see the module
    docstring). Finished runs are skipped. Returns one row per preset (state, wall time, speeds, memory).
    Raises ValueError for an unknown preset, a non-positive budget, or data that is missing (naming the command
    that fetches it)."""
    if not budget_s > 0:
        raise ValueError(f"budget must be > 0 seconds, got {budget_s}")
    presets = list(presets)
    for name in presets:
        load_config(name)  # unknown names fail here, before anything runs
    if not smoke:
        missing = [n for n in presets if _data_need(n) and not _data_present(_data_need(n))]
        if missing:
            raise ValueError(
                f"data missing for {', '.join(missing)}: run `python -m spectral_bias.data fetch` "
                f"(or carry data/raw) first"
            )
    deadline = time.monotonic() + budget_s
    rows = []
    for name in presets:
        out = Path(out_root) / name
        out.mkdir(parents=True, exist_ok=True)
        if (out / "results.json").is_file():
            rows.append(dict(preset=name, state="already done"))
            continue
        if time.monotonic() >= deadline - 5:
            rows.append(dict(preset=name, state="not started (budget spent)"))
            continue
        cfg_arg = name
        if smoke:
            cfg_arg = str(out / "smoke_config.json")
            Path(cfg_arg).write_text(json.dumps(smoke_config(name, smoke_steps), indent=1))
        rows.append(_run_one(name, cfg_arg, out, deadline, device, log, bf16))
    return rows


def _table(rows) -> str:
    cols = ("preset", "state", "wall_s", "steps_per_s", "samples_per_s", "peak_gpu_mib", "gpu_util_mean")
    fmt = lambda v: "-" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))
    lines = ["  ".join(cols)] + ["  ".join(fmt(r.get(c)) for c in cols) for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m spectral_bias.experiments.sweep", description=__doc__.splitlines()[0])
    p.add_argument("presets", nargs="*", default=list(DEFAULT_PRESETS), help="in priority order")
    p.add_argument("--budget-min", type=float, default=9.0, help="wall-clock budget in minutes (default 9)")
    p.add_argument("--out", default="runs/sweep")
    p.add_argument("--device", default="auto")
    p.add_argument("--smoke", action="store_true", help="tiny versions of the presets (tests the sweep on a CPU)")
    p.add_argument("--smoke-steps", type=int, default=6, help="training steps of each smoke run (default 6)")
    p.add_argument("--bf16", action="store_true", help="train under bfloat16 autocast (sampling stays float32)")
    args = p.parse_args(argv)
    try:
        rows = run_sweep(
            args.presets,
            args.out,
            budget_s=args.budget_min * 60,
            device=args.device,
            smoke=args.smoke,
            smoke_steps=args.smoke_steps,
            bf16=args.bf16,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(_table(rows))
    (Path(args.out) / "sweep_summary.json").write_text(json.dumps(rows, indent=1))
    return 0 if all(not r["state"].startswith("failed") for r in rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
