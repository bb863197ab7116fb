"""Training loop: Adam on the EDM loss, log-spaced snapshots, a fixed noise bank sampled with Heun at every
snapshot, streaming spectral measurement, periodic atomic checkpoints (also on SIGTERM/SIGINT) and exact resume
that refuses a changed config. Results are written atomically. Used by chapters 9 and 10 and the command line."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

try:
    from tqdm.auto import tqdm
except ImportError:  # a bare GPU machine (torch and numpy only): run without a progress bar

    class tqdm:
        def __init__(self, *args, **kwargs):
            self.n, self.total = kwargs.get("initial", 0), kwargs.get("total")

        def update(self, n=1):
            self.n += n

        def refresh(self):
            pass

        def set_postfix_str(self, *args, **kwargs):
            pass

        def close(self):
            pass


from .. import __version__
from ..nets import ConvUNet, EDMPrecond, MLPUNet, edm_loss, edm_sigma_steps, heun_sample
from .checkpoint import CheckpointError, atomic_write, load_checkpoint, save_checkpoint
from .config import ExperimentConfig
from .datasets import empirical_spectrum, load_training_data
from .measure import SpectralAccumulator, extract_patches

__all__ = [
    "RunExistsError",
    "RunInterrupted",
    "TrainingDiverged",
    "build_model",
    "config_differences",
    "load_results",
    "provenance",
    "resolve_device",
    "run_experiment",
    "snapshot_steps",
]

CKPT_NAME = "checkpoint.pt"
MAX_PATCHES = 200_000
RUN_FILES = ("checkpoint.pt", "results.npz", "results.json", "analysis.json")
# fields that may change between a run and its resume: they do not change what is computed (device and threads
# can change the last bits of floating-point sums; resume is bit-identical only on the same device and threads)
RESUMABLE_FIELDS = ("device", "threads", "description", "note", "eval.save_weights")


class RunExistsError(FileExistsError):
    """A fresh run was asked for in a folder that already holds a run (pass overwrite=True / --overwrite)."""


class RunInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived during a run: a checkpoint was written, continue with resume=True."""

    def __init__(self, message: str, signum: int, step: int):
        super().__init__(message)
        self.signum, self.step = signum, step


class TrainingDiverged(FloatingPointError):
    """The training loss became NaN or infinite (the message names the step)."""


def snapshot_steps(total_steps: int, n_snapshots: int) -> np.ndarray:
    """Log-spaced snapshot steps: 0, then round(geomspace(1, total_steps, n_snapshots−1)), duplicates removed
    (so early steps are dense, late ones sparse, as in the authors' record ranges). Returns int array, sorted.
    Raises ValueError if total_steps < 1 or n_snapshots < 2."""
    if int(total_steps) < 1 or int(n_snapshots) < 2:
        raise ValueError(f"need total_steps >= 1 and n_snapshots >= 2, got {total_steps}, {n_snapshots}")
    s = np.round(np.geomspace(1, total_steps, n_snapshots - 1)).astype(int)
    return np.unique(np.concatenate([[0], s]))


def build_model(cfg: ExperimentConfig, sample_shape: tuple) -> EDMPrecond:
    """EDM-preconditioned MLP-UNet (flat samples (d,)) or conv UNet (images (C, H, W)) for a config."""
    m = cfg.model
    if m.kind == "mlp":
        net = MLPUNet(int(np.prod(sample_shape)), m.nlayers, m.nhidden, m.time_embed_dim, m.dropout)
    else:
        C, H, W = sample_shape
        net = ConvUNet(
            C, H, m.base_channels, m.channel_mult, m.num_blocks, m.attn_resolutions, m.time_embed_dim, m.dropout
        )
    return EDMPrecond(net, m.sigma_data)


def resolve_device(name: str) -> torch.device:
    """``auto`` → the first of cuda, mps, cpu that is available; anything else is taken as given.
    Raises ValueError if a CUDA or MPS device is asked for and none is available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but torch sees no CUDA GPU; use --device cpu or auto")
    if name == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise ValueError("device 'mps' asked for, but it is not available; use --device cpu or auto")
    return torch.device(name)


def _git_commit() -> str | None:
    """The commit of the checkout this package runs from (suffix ``-dirty`` with uncommitted changes), or None
    when it is not a git checkout (an installed wheel)."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        if not commit:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=here.parent, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(device: torch.device, command: str | None = None) -> dict:
    """What a result file records about where and how it was made: the command, package and library versions,
    git commit, machine (processor, cores, GPU name), torch threads."""
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return dict(
        command=command or " ".join([Path(sys.executable).name] + sys.argv),
        package_version=__version__,
        git_commit=_git_commit(),
        torch_version=torch.__version__,
        numpy_version=np.__version__,
        python=platform.python_version(),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cpu_count=os.cpu_count(),
            gpu=gpu,
        ),
        device=str(device),
        torch_threads=torch.get_num_threads(),
    )


def _peak_memory(device: torch.device) -> dict:
    """Peak resident memory of this process (MiB) and, on CUDA, peak GPU memory allocated by torch (MiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    gpu = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return dict(peak_rss_mib=round(rss, 1), peak_gpu_mib=None if gpu is None else round(gpu, 1))


def _prepare(cfg: ExperimentConfig):
    x, spec = load_training_data(cfg.data)
    image_shape = x.shape[1:]
    patch = {}  # patch size -> spectrum of the training images' patches
    for size in _patch_sizes(cfg):
        P = extract_patches(x, size, cfg.eval.patch_stride)
        if len(P) > MAX_PATCHES:  # a seeded subset is plenty for a (C·p²)-dim covariance
            P = P[np.sort(np.random.default_rng(cfg.seed).choice(len(P), MAX_PATCHES, replace=False))]
        patch[size] = empirical_spectrum(P)
    if cfg.model.kind == "mlp":
        x = x.reshape(len(x), -1)
    return x, spec, patch, image_shape


def _patch_sizes(cfg) -> list[int]:
    """eval.patch_size (the main patch measurement) followed by eval.extra_patch_sizes, without repeats."""
    sizes = ([cfg.eval.patch_size] if cfg.eval.patch_size else []) + list(cfg.eval.extra_patch_sizes)
    return list(dict.fromkeys(sizes))


def _measure(model, noise, sigmas, cfg, spec, patch, n_keep, image_shape, step=None):
    """Sample the whole noise bank with Heun and measure (whole-sample and patch spectra). Raises TrainingDiverged
    if a sample is not finite (the model, at training step ``step``, drives the sampler to overflow)."""
    model.eval()
    acc = SpectralAccumulator(spec.eigenvectors, spec.mean)
    paccs = {size: SpectralAccumulator(sp.eigenvectors, sp.mean) for size, sp in patch.items()}
    kept = []
    with torch.no_grad():
        for i in range(0, noise.shape[0], cfg.eval.batch_size):
            out = heun_sample(model, noise[i : i + cfg.eval.batch_size], sigmas).cpu().numpy()
            if not np.all(np.isfinite(out)):
                model.train()
                raise TrainingDiverged(
                    f"generated samples became non-finite at step {step} (the sampler diverged; "
                    f"train.lr={cfg.train.lr:g})"
                )
            acc.update(out.reshape(len(out), -1))
            for size, pacc in paccs.items():
                pacc.update(extract_patches(out.reshape((len(out),) + tuple(image_shape)), size, cfg.eval.patch_stride))
            if sum(len(k) for k in kept) < n_keep:
                kept.append(out[: n_keep - sum(len(k) for k in kept)])
    model.train()
    r = acc.result()
    r["samples"] = np.concatenate(kept) if kept else None
    for size, pacc in paccs.items():
        pr = pacc.result()
        key = "patch" if size == cfg.eval.patch_size else f"patch{size}"
        r.update({f"{key}_gen_var": pr["gen_var"], f"{key}_chi": pr["chi"], f"{key}_mean_err": pr["mean_err"]})
    return r


def _rng_state(gen: torch.Generator) -> dict:
    """RNG states as tensors and plain numbers (a checkpoint must load with torch.load(weights_only=True))."""
    key, keys, pos, has_gauss, cached = np.random.get_state()
    return dict(
        torch=torch.get_rng_state(),
        gen=gen.get_state(),
        numpy=dict(
            key=str(key),
            keys=torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached),
        ),
    )


def _set_rng_state(gen: torch.Generator, st: dict) -> None:
    torch.set_rng_state(st["torch"])
    gen.set_state(st["gen"])
    n = st["numpy"]
    np.random.set_state((n["key"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))


def _to_plain(v):
    """numpy arrays → tensors, numpy scalars → Python numbers, recursively (for weights_only checkpoints)."""
    if isinstance(v, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(v).copy())
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {k: _to_plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_to_plain(x) for x in v)
    return v


def _from_plain(v):
    """Inverse of _to_plain for the measurements: tensors → numpy arrays."""
    if isinstance(v, torch.Tensor):
        return v.numpy()
    if isinstance(v, dict):
        return {k: _from_plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_from_plain(x) for x in v]
    return v


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def config_differences(saved: dict, cfg: ExperimentConfig, ignore=RESUMABLE_FIELDS) -> list[str]:
    """Dotted fields (e.g. ``train.lr``) whose values differ between a checkpoint's config dict ``saved`` and
    ``cfg``, as ``"train.lr: 0.001 in the checkpoint, 0.002 now"``; fields in ``ignore`` are not compared."""
    a, b = _flatten(saved), _flatten(cfg.to_dict())
    return [
        f"{k}: {a.get(k, '(absent)')!r} in the checkpoint, {b.get(k, '(absent)')!r} now"
        for k in sorted(set(a) | set(b))
        if k not in ignore and a.get(k) != b.get(k)
    ]


def _sampling_cost(cfg: ExperimentConfig) -> float:
    """A first estimate of one snapshot's sampling work in training-step equivalents: the noise bank through
    2·sampler_steps − 1 forward passes (Heun), against one step's forward + backward (≈ 3 forward passes) on a
    batch. Replaced by the measured ratio once a snapshot and some steps have been timed."""
    e = cfg.eval
    return e.n_samples * (2 * e.sampler_steps - 1) / (3.0 * cfg.train.batch_size)


class _Progress:
    """A progress bar in training-step equivalents: total = training steps + snapshots × (sampling cost of a
    snapshot in steps), so that its rate and ETA count the sampling too. The cost per snapshot starts as
    _sampling_cost(cfg) and is re-estimated from the measured times (seconds per snapshot / seconds per step)."""

    def __init__(self, cfg, n_snaps_left: int, steps_left: int, done: float, enabled: bool):
        self.cost = _sampling_cost(cfg)
        self.snaps_left, self.steps_left, self.done = n_snaps_left, steps_left, float(done)
        self.bar = tqdm(
            total=self.total(),
            initial=done,
            disable=not enabled,
            desc=cfg.name,
            leave=False,
            unit="step",
            smoothing=0.05,
            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} step-equivalents [{elapsed}<{remaining}]",
        )

    def total(self) -> float:
        """Work done so far plus the work left, in training-step equivalents."""
        return self.done + self.steps_left + self.snaps_left * self.cost

    def step(self):
        self.steps_left -= 1
        self.done += 1
        self.bar.update(1)

    def snapshot(self, t_meas: float, n_meas: int, t_train: float, n_train: int):
        """One snapshot measured; t_meas/n_meas and t_train/n_train are this process's timings so far."""
        self.snaps_left -= 1
        self.done += self.cost
        self.bar.update(self.cost)
        if n_meas and n_train >= 5 and t_train > 0:
            self.cost = (t_meas / n_meas) / (t_train / n_train)
        self.bar.total = self.total()
        self.bar.refresh()

    def close(self):
        self.bar.close()


@contextlib.contextmanager
def _catch_signals():
    """While active (main thread only), SIGINT and SIGTERM set a flag instead of killing the process, so that the
    loop can write a checkpoint and stop cleanly; the previous handlers are restored afterwards."""
    flag = {"signum": None}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        flag["signum"] = signum

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _prepare_folder(out: Path, resume: bool, overwrite: bool) -> None:
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other: resume continues a run, overwrite discards it")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output folder {out} exists and is not a folder")
    if out.is_dir():  # temporary files of a process killed while writing (never complete files)
        for f in RUN_FILES:
            for tmp in out.glob(f".{f}.*.tmp"):
                tmp.unlink()
    if resume:
        if not (out / CKPT_NAME).is_file():
            raise FileNotFoundError(f"no checkpoint at {out / CKPT_NAME}; run without --resume to start afresh")
        return
    present = [f for f in RUN_FILES if (out / f).exists()]
    if present and not overwrite:
        raise RunExistsError(
            f"{out} already holds a run ({', '.join(present)}); continue it with --resume, "
            f"or replace it with --overwrite"
        )
    for f in present:
        (out / f).unlink()
    if overwrite and (out / "weights").is_dir():
        for w in (out / "weights").glob("step_*.pt"):
            w.unlink()


def run_experiment(
    cfg: ExperimentConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    stop_after: int | None = None,
    progress: bool = True,
    command: str | None = None,
    overwrite: bool = False,
    checkpoint_seconds: float | None = 300.0,
) -> dict | None:
    """Train and measure one experiment; write ``results.npz`` + ``results.json`` into out_dir (atomically).

    At every snapshot step s (after s optimiser steps) the fixed noise bank (eval.n_samples draws, seeded by
    cfg.seed) is sampled with the deterministic Heun sampler and measured. Checkpoints (``checkpoint.pt``,
    atomic, verified on load, plain data only) are written every train.checkpoint_every steps, at least every
    ``checkpoint_seconds`` of wall time (None: never by time), at the end, at ``stop_after`` (save and return
    None after that many steps; 0 runs no step), and when SIGINT or SIGTERM arrives (then RunInterrupted is
    raised). ``resume=True`` continues from the checkpoint and refuses one made with a different config (only
    device, threads, description, note and eval.save_weights may change); on CPU with the same threads the result
    is bit-identical to an uninterrupted run. A fresh run refuses a folder that already holds a run unless
    ``overwrite=True``, which deletes that run's files first. ``command`` is recorded in results.json (default:
    this process's command line). The progress bar counts training steps and snapshot sampling (in training-step
    equivalents). Returns the results dict.

    Raises FileNotFoundError if resume=True and no checkpoint exists, RunExistsError (a FileExistsError) for a
    fresh run in a used folder, CheckpointError (a ValueError) for a corrupted/edited checkpoint, ValueError for a
    config that differs from the checkpoint's (naming the fields), an unavailable device or a bad stop_after,
    TrainingDiverged ("loss became NaN at step N") when the loss stops being finite.
    """
    cfg.validate()
    if stop_after is not None and (
        isinstance(stop_after, bool) or not isinstance(stop_after, (int, np.integer)) or stop_after < 0
    ):
        raise ValueError(f"stop_after must be an integer >= 0 or None, got {stop_after!r}")
    if checkpoint_seconds is not None and not (isinstance(checkpoint_seconds, (int, float)) and checkpoint_seconds > 0):
        raise ValueError(f"checkpoint_seconds must be a positive number or None, got {checkpoint_seconds!r}")
    out = Path(out_dir)
    device = resolve_device(cfg.device)
    _prepare_folder(out, resume, overwrite)
    ck = None
    if resume:
        ck = load_checkpoint(out / CKPT_NAME)
        diff = config_differences(ck.get("config", {}), cfg)
        if diff:
            raise ValueError(
                f"checkpoint {out / CKPT_NAME} was made with a different config: {'; '.join(diff)}. "
                f"Resume with the same config, or start afresh with --overwrite"
            )
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    prov = provenance(device, command)  # at the start: the commit the run was launched from
    t0 = time.perf_counter()
    x, spec, patch, image_shape = _prepare(cfg)
    xt = torch.from_numpy(x).to(device)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, x.shape[1:]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)  # on the device: no host round trip
    noise = torch.randn((cfg.eval.n_samples,) + x.shape[1:], generator=torch.Generator().manual_seed(cfg.seed + 2))
    noise = noise.to(device)
    e = cfg.eval
    sigmas = edm_sigma_steps(e.sampler_steps, e.sigma_min, e.sigma_max, e.rho).to(device)
    snaps = snapshot_steps(cfg.train.steps, e.n_snapshots)
    show = (
        set(snaps[np.unique(np.round(np.linspace(0, len(snaps) - 1, e.n_show_snapshots)).astype(int))].tolist())
        if e.n_show_snapshots
        else set()
    )
    meas: dict[str, list] = {}
    losses = np.zeros(cfg.train.steps, dtype=np.float32)
    step, t_train, t_meas = 0, 0.0, 0.0
    if ck is not None:
        try:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            _set_rng_state(gen, ck["rng"])
            step, t_train, t_meas = int(ck["step"]), float(ck["t_train"]), float(ck["t_meas"])
            meas, losses = _from_plain(ck["measurements"]), ck["losses"].numpy().copy()
        except (KeyError, RuntimeError, TypeError, ValueError, AttributeError) as err:
            raise CheckpointError(
                f"checkpoint {out / CKPT_NAME} does not fit this run "
                f"({type(err).__name__}: {str(err).splitlines()[0][:160]})"
            ) from None
        if losses.shape != (cfg.train.steps,) or not 0 <= step <= cfg.train.steps:
            raise CheckpointError(
                f"checkpoint {out / CKPT_NAME} does not fit this run (step {step}, "
                f"{losses.size} losses for train.steps={cfg.train.steps})"
            )
    t_setup = time.perf_counter() - t0

    def checkpoint():
        nonlocal t_last_ckpt
        save_checkpoint(
            out / CKPT_NAME,
            dict(
                model=model.state_dict(),
                optimizer=opt.state_dict(),
                rng=_rng_state(gen),
                step=step,
                measurements=_to_plain(meas),
                losses=torch.from_numpy(losses.copy()),
                t_train=t_train,
                t_meas=t_meas,
                config=cfg.to_dict(),
                package_version=__version__,
            ),
        )
        t_last_ckpt = time.monotonic()

    t_last_ckpt = time.monotonic()
    done = set(meas.get("steps", []))
    n_train_seg, t_train_seg, n_meas_seg, t_meas_seg = 0, 0.0, 0, 0.0  # this segment's timings (progress ETA)
    bar = _Progress(cfg, sum(1 for s_ in snaps if s_ not in done), cfg.train.steps - step, step, progress)
    try:
        with _catch_signals() as caught:
            while True:
                if caught["signum"] is not None:
                    checkpoint()
                    name = signal.Signals(caught["signum"]).name
                    raise RunInterrupted(
                        f"{name} received: checkpoint written at step {step} in {out}; continue with --resume",
                        caught["signum"],
                        step,
                    )
                if stop_after is not None and step >= stop_after and step < cfg.train.steps:
                    checkpoint()
                    return None
                if step in snaps and step not in done:
                    tm = time.perf_counter()
                    r = _measure(
                        model, noise, sigmas, cfg, spec, patch, e.n_show if step in show else 0, image_shape, step
                    )
                    samples = r.pop("samples")
                    meas.setdefault("steps", []).append(step)
                    for k, v in r.items():
                        meas.setdefault(k, []).append(v)
                    if step in show:
                        meas.setdefault("show_steps", []).append(step)
                        meas.setdefault("show_samples", []).append(samples)
                        if e.save_weights:
                            (out / "weights").mkdir(exist_ok=True)
                            with atomic_write(out / "weights" / f"step_{step:07d}.pt") as f:
                                torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, f)
                    done.add(step)
                    dt = time.perf_counter() - tm
                    t_meas += dt
                    t_meas_seg += dt
                    n_meas_seg += 1
                    bar.snapshot(t_meas_seg, n_meas_seg, t_train_seg, n_train_seg)
                if step >= cfg.train.steps:
                    break
                tt = time.perf_counter()
                idx = torch.randint(len(xt), (cfg.train.batch_size,), generator=gen, device=device)
                with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=cfg.train.bf16):
                    loss = edm_loss(model, xt[idx], P_mean=cfg.train.P_mean, P_std=cfg.train.P_std, generator=gen)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                lv = loss.item()
                if not math.isfinite(lv):
                    raise TrainingDiverged(
                        f"loss became {'NaN' if math.isnan(lv) else 'infinite'} at step {step} "
                        f"(train.lr={cfg.train.lr:g}; try a smaller learning rate)"
                    )
                losses[step] = lv
                step += 1
                dt = time.perf_counter() - tt
                t_train += dt
                t_train_seg += dt
                n_train_seg += 1
                bar.step()
                if (cfg.train.checkpoint_every and step % cfg.train.checkpoint_every == 0) or (
                    checkpoint_seconds is not None and time.monotonic() - t_last_ckpt >= checkpoint_seconds
                ):
                    checkpoint()
            checkpoint()  # the finished state: a resume of a finished run rewrites the same results
    finally:
        bar.close()
    res = dict(
        steps=np.array(meas["steps"]),
        times=np.array(meas["steps"]) * cfg.train.lr,
        eigenvalues=spec.eigenvalues,
        data_mean=spec.mean,
        gen_var=np.array(meas["gen_var"]),
        mean_err=np.array(meas["mean_err"]),
        chi=np.array(meas["chi"]),
        frob2=np.array(meas["frob2"]),
        losses=losses,
        show_steps=np.array(meas.get("show_steps", [])),
        show_samples=np.array(meas["show_samples"]) if meas.get("show_samples") else np.zeros((0,)),
    )
    for size, sp in patch.items():
        key = "patch" if size == cfg.eval.patch_size else f"patch{size}"
        res.update(
            {
                f"{key}_eigenvalues": sp.eigenvalues,
                f"{key}_gen_var": np.array(meas[f"{key}_gen_var"]),
                f"{key}_chi": np.array(meas[f"{key}_chi"]),
            }
        )
    with atomic_write(out / "results.npz") as f:
        np.savez_compressed(f, **res)
    n_sampled = len(meas["steps"]) * cfg.eval.n_samples
    info = dict(
        config=cfg.to_dict(),
        **prov,
        threads=cfg.threads,
        timings=dict(
            setup_s=t_setup,
            train_s=t_train,
            measure_s=t_meas,
            total_s=t_setup + t_train + t_meas,  # summed over resumed segments
            steps_per_s=cfg.train.steps / t_train if t_train else None,
            samples_per_s=n_sampled / t_meas if t_meas else None,
            train_samples_per_s=cfg.train.steps * cfg.train.batch_size / t_train if t_train else None,
            **_peak_memory(device),
        ),
        sample_shape=list(x.shape[1:]),
        image_shape=list(image_shape),
        n_train=len(x),
    )
    with atomic_write(out / "results.json", "w") as f:
        f.write(json.dumps(info, indent=1))
    res["info"] = info
    return res


def load_results(run_dir: str | Path) -> dict:
    """Read ``results.npz`` and ``results.json`` of a finished run into one dict (json under key 'info').
    Raises FileNotFoundError naming the missing file."""
    run_dir = Path(run_dir)
    for f in ("results.npz", "results.json"):
        if not (run_dir / f).is_file():
            raise FileNotFoundError(f"{run_dir / f} not found; run `python -m spectral_bias.experiments run ...` first")
    with np.load(run_dir / "results.npz") as z:
        res = {k: z[k] for k in z.files}
    res["info"] = json.loads((run_dir / "results.json").read_text())
    return res
