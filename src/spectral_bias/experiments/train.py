"""Training loop: Adam on the EDM loss, log-spaced snapshots, a fixed noise bank sampled with Heun at every
snapshot, streaming spectral measurement, periodic atomic checkpoints (also on SIGTERM/SIGINT) and exact resume
that refuses a changed config. Results are written atomically. Used by chapters 9 and 10 and the command line.

:func:`run_experiment` is a short loop over named steps, each a function of its own: restore
(:func:`open_run_folder`, :func:`restore_state`) on what :func:`prepare_setup` computes once, train
(:func:`train_steps`), measure (:func:`measure_snapshot`, recorded by :func:`record_snapshot`), checkpoint
(:func:`write_checkpoint`) and write (:func:`write_results`). The training state they pass on is a
:class:`RunState`; what never changes during a run is a :class:`RunSetup`."""

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
from dataclasses import dataclass
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
from .datasets import DataSpectrum, empirical_spectrum, load_training_data
from .measure import SpectralAccumulator, extract_patches

__all__ = [
    "RunExistsError",
    "RunInterrupted",
    "RunSetup",
    "RunState",
    "TrainingDiverged",
    "build_model",
    "config_differences",
    "load_results",
    "measure_snapshot",
    "open_run_folder",
    "prepare_setup",
    "provenance",
    "record_snapshot",
    "resolve_device",
    "restore_state",
    "run_experiment",
    "snapshot_steps",
    "train_steps",
    "write_checkpoint",
    "write_results",
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

    @classmethod
    def after(cls, signum: int, step: int, out: Path) -> RunInterrupted:
        """The exception for signal ``signum`` caught at ``step``, the checkpoint written in ``out``."""
        name = signal.Signals(signum).name
        return cls(f"{name} received: checkpoint written at step {step} in {out}; continue with --resume", signum, step)


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


@dataclass(frozen=True)
class RunSetup:
    """What a run computes once and never changes, on a fresh start and on a resume alike: the training samples on
    the device (n_train,) + sample_shape (flat (d,) for an MLP, (C, H, W) for a conv UNet), the data spectrum and
    the patch spectra (patch size → spectrum), the image shape, the fixed noise bank (eval.n_samples draws, seeded
    by cfg.seed + 2), the Heun noise levels σ_0 > … > σ_N = 0 (eq. 5 of Karras et al. 2022), the snapshot steps
    and the steps whose samples are kept (shown). Made by :func:`prepare_setup`."""

    device: torch.device
    data: torch.Tensor
    spectrum: DataSpectrum
    patch_spectra: dict
    image_shape: tuple
    noise: torch.Tensor
    sigmas: torch.Tensor
    snaps: np.ndarray
    show: frozenset

    @property
    def sample_shape(self) -> tuple:
        return tuple(self.data.shape[1:])


def _load_data(cfg: ExperimentConfig):
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


def _patch_key(size: int, cfg: ExperimentConfig) -> str:
    """The prefix of a patch measurement's keys: ``patch`` for eval.patch_size, ``patch{size}`` for the others."""
    return "patch" if size == cfg.eval.patch_size else f"patch{size}"


def prepare_setup(cfg: ExperimentConfig, device: torch.device) -> RunSetup:
    """Load the training data and its (patch) spectra, draw the noise bank, and plan the snapshots of a run
    (see :class:`RunSetup`); nothing here depends on the training state, so a resume recomputes the same."""
    x, spec, patch, image_shape = _load_data(cfg)
    e = cfg.eval
    noise = torch.randn((e.n_samples,) + x.shape[1:], generator=torch.Generator().manual_seed(cfg.seed + 2))
    snaps = snapshot_steps(cfg.train.steps, e.n_snapshots)
    show = (
        snaps[np.unique(np.round(np.linspace(0, len(snaps) - 1, e.n_show_snapshots)).astype(int))].tolist()
        if e.n_show_snapshots
        else []
    )
    return RunSetup(
        device=device,
        data=torch.from_numpy(x).to(device),
        spectrum=spec,
        patch_spectra=patch,
        image_shape=tuple(image_shape),
        noise=noise.to(device),
        sigmas=edm_sigma_steps(e.sampler_steps, e.sigma_min, e.sigma_max, e.rho).to(device),
        snaps=snaps,
        show=frozenset(show),
    )


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
    _sampling_cost(cfg) and is re-estimated from the measured times (seconds per snapshot / seconds per step) of
    this process, which :meth:`trained` and :meth:`measured` accumulate."""

    def __init__(self, cfg, n_snaps_left: int, steps_left: int, done: float, enabled: bool):
        self.cost = _sampling_cost(cfg)
        self.n_train, self.t_train, self.n_meas, self.t_meas = 0, 0.0, 0, 0.0
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

    def trained(self, n: int, seconds: float):
        """``n`` training steps (each already shown by :meth:`step`) took ``seconds``."""
        self.n_train += n
        self.t_train += seconds

    def measured(self, seconds: float):
        """One snapshot was measured in ``seconds``: shown, and the cost per snapshot re-estimated."""
        self.n_meas += 1
        self.t_meas += seconds
        self.snapshot(self.t_meas, self.n_meas, self.t_train, self.n_train)

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


@dataclass
class RunState:
    """What changes while a run trains, and what a checkpoint holds: the model, the Adam optimiser, the device
    generator that draws batches and noise, the number of optimiser steps taken, the loss of every step
    (train.steps,) (zero where not yet taken), the measurements so far (key → one entry per snapshot, with
    ``steps`` the snapshot steps), and the seconds spent training and measuring (summed over resumed segments).
    Made by :func:`restore_state`, saved by :func:`write_checkpoint`."""

    model: EDMPrecond
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    step: int
    losses: np.ndarray
    measurements: dict
    t_train: float = 0.0
    t_meas: float = 0.0

    def measured(self, step) -> bool:
        """Whether the snapshot at ``step`` has been measured."""
        return step in self.measurements.get("steps", ())


def open_run_folder(out: Path, cfg: ExperimentConfig, *, resume: bool, overwrite: bool) -> dict | None:
    """First half of the restore step: check the run folder and read what to continue from.

    Removes temporary files of a process killed while writing. A fresh start (resume=False) refuses a folder that
    holds a run (RunExistsError) unless ``overwrite``, which deletes that run's files first, and returns None.
    A resume reads and verifies ``checkpoint.pt`` and returns its state; it refuses a missing checkpoint
    (FileNotFoundError), a corrupted one (CheckpointError) and one made with another config (ValueError naming
    the fields; only the fields in RESUMABLE_FIELDS may change). Nothing is created: the caller makes the folder.
    """
    _prepare_folder(out, resume, overwrite)
    if not resume:
        return None
    ck = load_checkpoint(out / CKPT_NAME)
    diff = config_differences(ck.get("config", {}), cfg)
    if diff:
        raise ValueError(
            f"checkpoint {out / CKPT_NAME} was made with a different config: {'; '.join(diff)}. "
            f"Resume with the same config, or start afresh with --overwrite"
        )
    return ck


def restore_state(
    cfg: ExperimentConfig, setup: RunSetup, checkpoint: dict | None = None, source: str | Path = "checkpoint"
) -> RunState:
    """Second half of the restore step: the training state at the start of this process.

    Seeds torch with cfg.seed, builds the model (:func:`build_model`), Adam (train.lr) and the device generator
    (seed cfg.seed + 1): a fresh start (``checkpoint`` None) is at step 0 with no loss and no measurement. With a
    checkpoint state (from :func:`open_run_folder`) the model, optimiser, RNG states (torch, the generator, numpy),
    step, losses, measurements and timings are loaded from it, so the run continues bit-identically. Raises
    CheckpointError naming ``source`` if the checkpoint does not fit this config's model or step count."""
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, setup.sample_shape).to(setup.device)
    state = RunState(
        model=model,
        optimizer=torch.optim.Adam(model.parameters(), lr=cfg.train.lr),
        generator=torch.Generator(device=setup.device).manual_seed(cfg.seed + 1),  # on the device: no host round trip
        step=0,
        losses=np.zeros(cfg.train.steps, dtype=np.float32),
        measurements={},
    )
    if checkpoint is None:
        return state
    ck = checkpoint
    try:
        state.model.load_state_dict(ck["model"])
        state.optimizer.load_state_dict(ck["optimizer"])
        _set_rng_state(state.generator, ck["rng"])
        state.step, state.t_train, state.t_meas = int(ck["step"]), float(ck["t_train"]), float(ck["t_meas"])
        state.measurements, state.losses = _from_plain(ck["measurements"]), ck["losses"].numpy().copy()
    except (KeyError, RuntimeError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(
            f"checkpoint {source} does not fit this run ({type(err).__name__}: {str(err).splitlines()[0][:160]})"
        ) from None
    if state.losses.shape != (cfg.train.steps,) or not 0 <= state.step <= cfg.train.steps:
        raise CheckpointError(
            f"checkpoint {source} does not fit this run (step {state.step}, "
            f"{state.losses.size} losses for train.steps={cfg.train.steps})"
        )
    return state


def train_steps(state: RunState, setup: RunSetup, cfg: ExperimentConfig, until: int, stop=None, bar=None):
    """The train step: Adam steps on the EDM loss (eq. 2 of Karras et al. 2022; log-normal σ with train.P_mean,
    train.P_std; bfloat16 autocast if train.bf16) on batches of train.batch_size drawn with the state's generator,
    from state.step until state.step == ``until``, or earlier when ``stop()`` (checked after every step) is true.
    Records each step's loss; advances the progress ``bar`` by one per step. Returns (steps taken, seconds).
    Raises TrainingDiverged naming the step when the loss is not finite."""
    n, seconds = 0, 0.0
    while state.step < until:
        tt = time.perf_counter()
        idx = torch.randint(len(setup.data), (cfg.train.batch_size,), generator=state.generator, device=setup.device)
        with torch.autocast(device_type=setup.device.type, dtype=torch.bfloat16, enabled=cfg.train.bf16):
            loss = edm_loss(
                state.model, setup.data[idx], P_mean=cfg.train.P_mean, P_std=cfg.train.P_std, generator=state.generator
            )
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        lv = loss.item()
        if not math.isfinite(lv):
            raise TrainingDiverged(
                f"loss became {'NaN' if math.isnan(lv) else 'infinite'} at step {state.step} "
                f"(train.lr={cfg.train.lr:g}; try a smaller learning rate)"
            )
        state.losses[state.step] = lv
        state.step += 1
        dt = time.perf_counter() - tt
        state.t_train += dt
        seconds += dt
        n += 1
        if bar is not None:
            bar.step()
        if stop is not None and stop():
            break
    return n, seconds


def measure_snapshot(model, setup: RunSetup, cfg: ExperimentConfig, n_keep: int = 0, step=None) -> dict:
    """The measure step: sample the whole noise bank with the deterministic Heun sampler (eval.batch_size at a
    time) and measure the samples against the data spectrum (protocol of §7.1 / App. I, see
    :class:`~spectral_bias.experiments.SpectralAccumulator`), and against each patch spectrum.

    Returns gen_var (d,), gen_mean (d,), mean_err, frob2, chi, n, ``samples`` (the first ``n_keep`` samples,
    (n_keep,) + sample_shape, or None when n_keep is 0) and, per patch size p, ``{key}_gen_var`` (C·p²,),
    ``{key}_chi``, ``{key}_mean_err`` with key ``patch`` for eval.patch_size and ``patch{p}`` for the others. The
    model is left in training mode. Raises TrainingDiverged if a sample is not finite (the model, at training step
    ``step``, drives the sampler to overflow)."""
    model.eval()
    spec = setup.spectrum
    acc = SpectralAccumulator(spec.eigenvectors, spec.mean)
    paccs = {size: SpectralAccumulator(sp.eigenvectors, sp.mean) for size, sp in setup.patch_spectra.items()}
    kept = []
    with torch.no_grad():
        for i in range(0, setup.noise.shape[0], cfg.eval.batch_size):
            out = heun_sample(model, setup.noise[i : i + cfg.eval.batch_size], setup.sigmas).cpu().numpy()
            if not np.all(np.isfinite(out)):
                model.train()
                raise TrainingDiverged(
                    f"generated samples became non-finite at step {step} (the sampler diverged; "
                    f"train.lr={cfg.train.lr:g})"
                )
            acc.update(out.reshape(len(out), -1))
            images = out.reshape((len(out),) + setup.image_shape)
            for size, pacc in paccs.items():
                pacc.update(extract_patches(images, size, cfg.eval.patch_stride))
            if sum(len(k) for k in kept) < n_keep:
                kept.append(out[: n_keep - sum(len(k) for k in kept)])
    model.train()
    r = acc.result()
    r["samples"] = np.concatenate(kept) if kept else None
    for size, pacc in paccs.items():
        pr, key = pacc.result(), _patch_key(size, cfg)
        r.update({f"{key}_gen_var": pr["gen_var"], f"{key}_chi": pr["chi"], f"{key}_mean_err": pr["mean_err"]})
    return r


def record_snapshot(state: RunState, setup: RunSetup, cfg: ExperimentConfig, out: Path) -> float:
    """Measure the snapshot at state.step (:func:`measure_snapshot`) and append it to state.measurements; at a
    shown step keep eval.n_show samples (and, with eval.save_weights, write the weights atomically to
    ``out/weights/step_NNNNNNN.pt``). Returns the seconds it took (also added to state.t_meas)."""
    tm = time.perf_counter()
    step, meas, shown = state.step, state.measurements, state.step in setup.show
    r = measure_snapshot(state.model, setup, cfg, cfg.eval.n_show if shown else 0, step)
    samples = r.pop("samples")
    meas.setdefault("steps", []).append(step)
    for k, v in r.items():
        meas.setdefault(k, []).append(v)
    if shown:
        meas.setdefault("show_steps", []).append(step)
        meas.setdefault("show_samples", []).append(samples)
        if cfg.eval.save_weights:
            (out / "weights").mkdir(exist_ok=True)
            with atomic_write(out / "weights" / f"step_{step:07d}.pt") as f:
                torch.save({k: v.detach().cpu() for k, v in state.model.state_dict().items()}, f)
    dt = time.perf_counter() - tm
    state.t_meas += dt
    return dt


def write_checkpoint(path: Path, state: RunState, cfg: ExperimentConfig) -> None:
    """The checkpoint step: save the whole training state (model, optimiser, RNG states, step, measurements,
    losses, timings) with the config and package version, atomically and hashed (:func:`save_checkpoint`; plain
    data only, so it loads with ``weights_only=True``). :func:`open_run_folder` + :func:`restore_state` read it
    back bit-identically."""
    save_checkpoint(
        path,
        dict(
            model=state.model.state_dict(),
            optimizer=state.optimizer.state_dict(),
            rng=_rng_state(state.generator),
            step=state.step,
            measurements=_to_plain(state.measurements),
            losses=torch.from_numpy(state.losses.copy()),
            t_train=state.t_train,
            t_meas=state.t_meas,
            config=cfg.to_dict(),
            package_version=__version__,
        ),
    )


def _result_arrays(cfg: ExperimentConfig, setup: RunSetup, state: RunState) -> dict:
    """The arrays of ``results.npz`` (see :func:`write_results`)."""
    meas, spec = state.measurements, setup.spectrum
    res = dict(
        steps=np.array(meas["steps"]),
        times=np.array(meas["steps"]) * cfg.train.lr,
        eigenvalues=spec.eigenvalues,
        data_mean=spec.mean,
        gen_var=np.array(meas["gen_var"]),
        mean_err=np.array(meas["mean_err"]),
        chi=np.array(meas["chi"]),
        frob2=np.array(meas["frob2"]),
        losses=state.losses,
        show_steps=np.array(meas.get("show_steps", [])),
        show_samples=np.array(meas["show_samples"]) if meas.get("show_samples") else np.zeros((0,)),
    )
    for size, sp in setup.patch_spectra.items():
        key = _patch_key(size, cfg)
        res[f"{key}_eigenvalues"] = sp.eigenvalues
        res[f"{key}_gen_var"] = np.array(meas[f"{key}_gen_var"])
        res[f"{key}_chi"] = np.array(meas[f"{key}_chi"])
    return res


def _run_info(cfg: ExperimentConfig, setup: RunSetup, state: RunState, prov: dict, t_setup: float) -> dict:
    """The content of ``results.json`` (see :func:`write_results`); peak memory is read now."""
    t_train, t_meas, steps = state.t_train, state.t_meas, cfg.train.steps
    n_sampled = len(state.measurements["steps"]) * cfg.eval.n_samples
    return dict(
        config=cfg.to_dict(),
        **prov,
        threads=cfg.threads,
        timings=dict(
            setup_s=t_setup,
            train_s=t_train,
            measure_s=t_meas,
            total_s=t_setup + t_train + t_meas,  # summed over resumed segments
            steps_per_s=steps / t_train if t_train else None,
            samples_per_s=n_sampled / t_meas if t_meas else None,
            train_samples_per_s=steps * cfg.train.batch_size / t_train if t_train else None,
            **_peak_memory(setup.device),
        ),
        sample_shape=list(setup.sample_shape),
        image_shape=list(setup.image_shape),
        n_train=len(setup.data),
    )


def write_results(
    out: Path, cfg: ExperimentConfig, setup: RunSetup, state: RunState, *, prov: dict, t_setup: float
) -> dict:
    """The write step: ``results.npz`` (steps, times = steps·lr, the data eigenvalues and mean, the measurement
    trajectories gen_var (T, d), mean_err, chi, frob2 (T,), losses, the shown steps and samples, and per patch size
    its eigenvalues, gen_var and chi) and ``results.json`` (config, provenance ``prov``, threads, timings with
    rates and peak memory, sample and image shape, n_train), each written atomically (a failure leaves no partial
    or temporary file). Returns the arrays with the json dict under 'info' (as :func:`load_results` reads them)."""
    res = _result_arrays(cfg, setup, state)
    with atomic_write(out / "results.npz") as f:
        np.savez_compressed(f, **res)
    info = _run_info(cfg, setup, state, prov, t_setup)
    with atomic_write(out / "results.json", "w") as f:
        f.write(json.dumps(info, indent=1))
    res["info"] = info
    return res


def _next_stop(step: int, cfg: ExperimentConfig, snaps, stop_after: int | None) -> int:
    """The first step after ``step`` at which the loop acts between training steps: a snapshot, ``stop_after``,
    a periodic checkpoint (every train.checkpoint_every steps) or the last step."""
    candidates = [cfg.train.steps] + [int(s) for s in snaps if s > step]
    if stop_after is not None and stop_after > step:
        candidates.append(int(stop_after))
    if cfg.train.checkpoint_every:
        candidates.append((step // cfg.train.checkpoint_every + 1) * cfg.train.checkpoint_every)
    return min(candidates)


class _Checkpoints:
    """When and where the loop writes checkpoints: every train.checkpoint_every steps and at least every
    ``seconds`` of wall time since the last one (None: never by time)."""

    def __init__(self, path: Path, cfg: ExperimentConfig, seconds: float | None):
        self.path, self.cfg, self.seconds, self.last = path, cfg, seconds, time.monotonic()

    def time_due(self) -> bool:
        return self.seconds is not None and time.monotonic() - self.last >= self.seconds

    def due(self, step: int) -> bool:
        every = self.cfg.train.checkpoint_every
        return bool(every and step % every == 0) or self.time_due()

    def save(self, state: RunState) -> None:
        write_checkpoint(self.path, state, self.cfg)
        self.last = time.monotonic()


def _check_arguments(stop_after, checkpoint_seconds) -> None:
    if stop_after is not None and (
        isinstance(stop_after, bool) or not isinstance(stop_after, (int, np.integer)) or stop_after < 0
    ):
        raise ValueError(f"stop_after must be an integer >= 0 or None, got {stop_after!r}")
    if checkpoint_seconds is not None and not (isinstance(checkpoint_seconds, (int, float)) and checkpoint_seconds > 0):
        raise ValueError(f"checkpoint_seconds must be a positive number or None, got {checkpoint_seconds!r}")


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

    The loop runs named steps: restore (:func:`open_run_folder` + :func:`restore_state`: a fresh start or the
    checkpoint's state, on the data of :func:`prepare_setup`), then until the last step: measure
    (:func:`record_snapshot` at a snapshot step), train (:func:`train_steps` up to the next snapshot, periodic
    checkpoint, ``stop_after`` or signal), checkpoint (:func:`write_checkpoint`), and finally write
    (:func:`write_results`).

    Raises FileNotFoundError if resume=True and no checkpoint exists, RunExistsError (a FileExistsError) for a
    fresh run in a used folder, CheckpointError (a ValueError) for a corrupted/edited checkpoint, ValueError for a
    config that differs from the checkpoint's (naming the fields), an unavailable device or a bad stop_after,
    TrainingDiverged ("loss became NaN at step N") when the loss stops being finite.
    """
    cfg.validate()
    _check_arguments(stop_after, checkpoint_seconds)
    out = Path(out_dir)
    device = resolve_device(cfg.device)
    ck = open_run_folder(out, cfg, resume=resume, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    prov = provenance(device, command)  # at the start: the commit the run was launched from
    t0 = time.perf_counter()
    setup = prepare_setup(cfg, device)
    state = restore_state(cfg, setup, ck, source=out / CKPT_NAME)
    t_setup = time.perf_counter() - t0
    ckpt = _Checkpoints(out / CKPT_NAME, cfg, checkpoint_seconds)
    n_snaps_left = sum(1 for s in setup.snaps if not state.measured(s))
    bar = _Progress(cfg, n_snaps_left, cfg.train.steps - state.step, state.step, progress)
    try:
        with _catch_signals() as caught:
            stop = lambda: caught["signum"] is not None or ckpt.time_due()
            while True:
                if caught["signum"] is not None:
                    ckpt.save(state)
                    raise RunInterrupted.after(caught["signum"], state.step, out)
                if stop_after is not None and stop_after <= state.step < cfg.train.steps:
                    ckpt.save(state)
                    return None
                if state.step in setup.snaps and not state.measured(state.step):
                    bar.measured(record_snapshot(state, setup, cfg, out))
                if state.step >= cfg.train.steps:
                    break
                until = _next_stop(state.step, cfg, setup.snaps, stop_after)
                bar.trained(*train_steps(state, setup, cfg, until, stop=stop, bar=bar))
                if ckpt.due(state.step):
                    ckpt.save(state)
            ckpt.save(state)  # the finished state: a resume of a finished run rewrites the same results
    finally:
        bar.close()
    return write_results(out, cfg, setup, state, prov=prov, t_setup=t_setup)


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
