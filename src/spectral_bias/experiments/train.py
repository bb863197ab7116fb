"""Training loop: Adam on the EDM loss, log-spaced snapshots, a fixed noise bank sampled with Heun at every
snapshot, streaming spectral measurement, periodic atomic checkpoints and exact resume."""
from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import __version__
from ..nets import ConvUNet, EDMPrecond, MLPUNet, edm_loss, edm_sigma_steps, heun_sample
from .checkpoint import load_checkpoint, save_checkpoint
from .config import ExperimentConfig
from .datasets import empirical_spectrum, load_training_data
from .measure import SpectralAccumulator, extract_patches

__all__ = ["snapshot_steps", "build_model", "resolve_device", "provenance", "run_experiment", "load_results"]

CKPT_NAME = "checkpoint.pt"
MAX_PATCHES = 200_000


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
        net = ConvUNet(C, H, m.base_channels, m.channel_mult, m.num_blocks, m.attn_resolutions, m.time_embed_dim,
                       m.dropout)
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
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        if not commit:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=here.parent, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(device: torch.device, command: str | None = None) -> dict:
    """What a result file records about where and how it was made: the command, package and library versions,
    git commit, machine (processor, cores, GPU name), torch threads."""
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return dict(command=command or " ".join([Path(sys.executable).name] + sys.argv), package_version=__version__,
                git_commit=_git_commit(), torch_version=torch.__version__, numpy_version=np.__version__,
                python=platform.python_version(), machine=dict(platform=platform.platform(),
                processor=platform.processor() or platform.machine(), cpu_count=os.cpu_count(), gpu=gpu),
                device=str(device), torch_threads=torch.get_num_threads())


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


def _measure(model, noise, sigmas, cfg, spec, patch, n_keep, image_shape):
    """Sample the whole noise bank with Heun and measure (whole-sample and patch spectra)."""
    model.eval()
    acc = SpectralAccumulator(spec.eigenvectors, spec.mean)
    paccs = {size: SpectralAccumulator(sp.eigenvectors, sp.mean) for size, sp in patch.items()}
    kept = []
    with torch.no_grad():
        for i in range(0, noise.shape[0], cfg.eval.batch_size):
            out = heun_sample(model, noise[i:i + cfg.eval.batch_size], sigmas).cpu().numpy()
            acc.update(out.reshape(len(out), -1))
            for size, pacc in paccs.items():
                pacc.update(extract_patches(out.reshape((len(out),) + tuple(image_shape)), size,
                                            cfg.eval.patch_stride))
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
    return dict(torch=torch.get_rng_state(), gen=gen.get_state(), numpy=np.random.get_state())


def run_experiment(cfg: ExperimentConfig, out_dir: str | Path, *, resume: bool = False, stop_after: int | None = None,
                   progress: bool = True, command: str | None = None) -> dict | None:
    """Train and measure one experiment; write ``results.npz`` + ``results.json`` into out_dir.

    At every snapshot step s (after s optimiser steps) the fixed noise bank (eval.n_samples draws, seeded by
    cfg.seed) is sampled with the deterministic Heun sampler and measured. Checkpoints (``checkpoint.pt``,
    atomic) are written every train.checkpoint_every steps, and at ``stop_after`` (a testing/ops hook: save
    and return None after that many steps). ``resume=True`` continues from the checkpoint; on CPU with the
    same threads the result is bit-identical to an uninterrupted run. ``command`` is recorded in
    results.json (default: this process's command line). Returns the results dict.
    Raises FileNotFoundError if resume=True and no checkpoint exists.
    """
    cfg.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
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
    show = set(snaps[np.unique(np.round(np.linspace(0, len(snaps) - 1, e.n_show_snapshots)).astype(int))].tolist()) \
        if e.n_show_snapshots else set()
    meas: dict[str, list] = {}
    losses = np.zeros(cfg.train.steps, dtype=np.float32)
    step, t_train, t_meas = 0, 0.0, 0.0
    if resume:
        ck = load_checkpoint(out / CKPT_NAME)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["rng"]["torch"])
        gen.set_state(ck["rng"]["gen"])
        np.random.set_state(ck["rng"]["numpy"])
        step, meas, losses, t_train, t_meas = ck["step"], ck["measurements"], ck["losses"], ck["t_train"], ck["t_meas"]
    t_setup = time.perf_counter() - t0

    def checkpoint():
        save_checkpoint(out / CKPT_NAME, dict(model=model.state_dict(), optimizer=opt.state_dict(), rng=_rng_state(gen),
                                              step=step, measurements=meas, losses=losses, t_train=t_train,
                                              t_meas=t_meas, config=cfg.to_dict()))

    bar = tqdm(total=cfg.train.steps, initial=step, disable=not progress, desc=cfg.name, leave=False)
    done = set(meas.get("steps", []))
    while True:
        if step in snaps and step not in done:
            tm = time.perf_counter()
            r = _measure(model, noise, sigmas, cfg, spec, patch, e.n_show if step in show else 0, image_shape)
            samples = r.pop("samples")
            meas.setdefault("steps", []).append(step)
            for k, v in r.items():
                meas.setdefault(k, []).append(v)
            if step in show:
                meas.setdefault("show_steps", []).append(step)
                meas.setdefault("show_samples", []).append(samples)
                if e.save_weights:
                    (out / "weights").mkdir(exist_ok=True)
                    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()},
                               out / "weights" / f"step_{step:07d}.pt")
            done.add(step)
            t_meas += time.perf_counter() - tm
        if step >= cfg.train.steps:
            break
        tt = time.perf_counter()
        idx = torch.randint(len(xt), (cfg.train.batch_size,), generator=gen, device=device)
        loss = edm_loss(model, xt[idx], P_mean=cfg.train.P_mean, P_std=cfg.train.P_std, generator=gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[step] = loss.item()
        step += 1
        t_train += time.perf_counter() - tt
        bar.update(1)
        if stop_after is not None and step >= stop_after:
            checkpoint()
            bar.close()
            return None
        if cfg.train.checkpoint_every and step % cfg.train.checkpoint_every == 0:
            checkpoint()
    bar.close()
    if cfg.train.checkpoint_every:
        checkpoint()
    res = dict(
        steps=np.array(meas["steps"]), times=np.array(meas["steps"]) * cfg.train.lr,
        eigenvalues=spec.eigenvalues, data_mean=spec.mean,
        gen_var=np.array(meas["gen_var"]), mean_err=np.array(meas["mean_err"]), chi=np.array(meas["chi"]),
        frob2=np.array(meas["frob2"]), losses=losses,
        show_steps=np.array(meas.get("show_steps", [])),
        show_samples=np.array(meas["show_samples"]) if meas.get("show_samples") else np.zeros((0,)),
    )
    for size, sp in patch.items():
        key = "patch" if size == cfg.eval.patch_size else f"patch{size}"
        res.update({f"{key}_eigenvalues": sp.eigenvalues, f"{key}_gen_var": np.array(meas[f"{key}_gen_var"]),
                    f"{key}_chi": np.array(meas[f"{key}_chi"])})
    np.savez_compressed(out / "results.npz", **res)
    n_sampled = len(meas["steps"]) * cfg.eval.n_samples
    info = dict(config=cfg.to_dict(), **prov, threads=cfg.threads,
                timings=dict(setup_s=t_setup, train_s=t_train, measure_s=t_meas,
                             total_s=t_setup + t_train + t_meas,  # summed over resumed segments
                             steps_per_s=cfg.train.steps / t_train if t_train else None,
                             samples_per_s=n_sampled / t_meas if t_meas else None,
                             train_samples_per_s=cfg.train.steps * cfg.train.batch_size / t_train if t_train else None,
                             **_peak_memory(device)),
                sample_shape=list(x.shape[1:]), image_shape=list(image_shape), n_train=len(x))
    (out / "results.json").write_text(json.dumps(info, indent=1))
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
