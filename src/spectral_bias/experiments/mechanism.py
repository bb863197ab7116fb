"""What a trained convolutional denoiser computes (chapter 10; Figs. 14–15 of Wang & Pehlevan 2025).

* :func:`local_filter_fit`: the best local linear convolution (one P x P filter and a bias, the same at every
  position, zero padding) fitted by least squares to the network's output D(x + σ n; σ) on noisy training images,
  and the fraction of the output's variance it explains, R² = 1 − ‖D − D̂‖² / ‖D − mean D‖². The paper reports
  that early in training the UNet is close to such a filter (Fig. 14); its fitting procedure is not stated.
* :func:`denoiser_grid`: D(x + σ n; σ) for one image and noise draw over (training step × σ) (Fig. 15).
* :func:`load_snapshot_model`: a run's model at a saved snapshot (``eval.save_weights``; plain tensors, loaded
  with ``weights_only=True``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .config import config_from_dict
from .train import build_model

__all__ = ["denoiser_grid", "load_snapshot_model", "local_filter_fit", "saved_steps"]


def saved_steps(run_dir: str | Path) -> list[int]:
    """Training steps whose weights a run saved (``weights/step_NNNNNNN.pt``), sorted."""
    return sorted(int(p.stem[5:]) for p in (Path(run_dir) / "weights").glob("step_*.pt"))


def load_snapshot_model(run_dir: str | Path, step: int):
    """The EDM-wrapped model of a finished run at a saved step, in eval mode on the CPU.
    Raises FileNotFoundError naming the missing file (results.json or the weights of that step)."""
    run_dir = Path(run_dir)
    info_p, w_p = run_dir / "results.json", run_dir / "weights" / f"step_{int(step):07d}.pt"
    for p in (info_p, w_p):
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found (saved steps: {saved_steps(run_dir)})")
    info = json.loads(info_p.read_text())
    cfg = config_from_dict(info["config"])
    model = build_model(cfg, tuple(info["sample_shape"]))
    model.load_state_dict(torch.load(w_p, map_location="cpu", weights_only=True))
    return model.eval(), info


def _patches(x: torch.Tensor, P: int) -> torch.Tensor:
    """(n, 1, H, W) → (n·H·W, P²) zero-padded P x P neighbourhoods of every pixel."""
    cols = torch.nn.functional.unfold(x, P, padding=P // 2)  # (n, P², H·W)
    return cols.transpose(1, 2).reshape(-1, P * P)


@torch.no_grad()
def local_filter_fit(model, images, sigma: float, patch_sizes=(1, 3, 5, 7), *, seed: int = 0, image_shape=None) -> dict:
    """Fraction of the denoiser's output explained by the best local linear filter of each size P.

    images: (n, 1, H, W) clean grey images (float); the network sees x + σ n with n ~ N(0, I) (seeded).
    For an MLP model pass image_shape=(1, H, W): inputs are flattened for it and outputs reshaped back.
    Returns {"r2": {P: R²}, "r2_learned": {P: R²}, "filters": {P: (P, P) taps}}: "r2" for the whole output D
    (at small σ the skip path c_skip x dominates and any filter explains it), "r2_learned" for the learned part
    D − c_skip(σ) x only (the part the network computes). Raises ValueError for non-grey images or even or
    non-positive P."""
    x0 = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    if x0.ndim != 4 or x0.shape[1] != 1:
        raise ValueError(f"images must have shape (n, 1, H, W), got {tuple(x0.shape)}")
    if any(int(P) < 1 or int(P) % 2 == 0 for P in patch_sizes):
        raise ValueError(f"patch_sizes must be positive odd integers, got {patch_sizes}")
    g = torch.Generator().manual_seed(seed)
    xn = x0 + float(sigma) * torch.randn(x0.shape, generator=g)
    inp = xn.reshape(len(xn), -1) if image_shape is not None else xn
    y = model(inp, torch.tensor(float(sigma))).reshape(x0.shape).double().reshape(-1)
    c_skip = model.sigma_data**2 / (float(sigma) ** 2 + model.sigma_data**2)
    y_learned = y - c_skip * xn.double().reshape(-1)
    r2, r2_learned, filters = {}, {}, {}
    for P in patch_sizes:
        A = torch.cat([_patches(xn, int(P)).double(), torch.ones(y.numel(), 1, dtype=torch.float64)], 1)
        coef = torch.linalg.lstsq(A, torch.stack([y, y_learned], 1)).solution
        for target, col, store in ((y, 0, r2), (y_learned, 1, r2_learned)):
            resid = float(((A @ coef[:, col] - target) ** 2).sum())
            store[int(P)] = 1.0 - resid / float(((target - target.mean()) ** 2).sum())
        filters[int(P)] = coef[:-1, 0].reshape(int(P), int(P)).numpy()
    return dict(r2=r2, r2_learned=r2_learned, filters=filters)


@torch.no_grad()
def denoiser_grid(run_dir: str | Path, image, sigmas, *, steps=None, seed: int = 0) -> dict:
    """D(x + σ n; σ) of a run's saved snapshots for one clean image (C, H, W) and one noise draw (seeded), on a
    grid of training steps × noise levels (Fig. 15). Returns {"steps": (S,), "sigmas": (K,), "noisy": (K, C, H,
    W), "denoised": (S, K, C, H, W)}. Raises FileNotFoundError if the run saved no weights."""
    steps = saved_steps(run_dir) if steps is None else list(steps)
    if not steps:
        raise FileNotFoundError(f"{Path(run_dir) / 'weights'} holds no saved weights (set eval.save_weights)")
    x0 = torch.as_tensor(np.asarray(image), dtype=torch.float32)[None]
    n = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    sig = [float(s) for s in sigmas]
    noisy = torch.cat([x0 + s * n for s in sig])
    out = np.zeros((len(steps), len(sig)) + tuple(x0.shape[1:]), dtype=np.float32)
    for i, st in enumerate(steps):
        model, info = load_snapshot_model(run_dir, st)
        flat = info["config"]["model"]["kind"] == "mlp"
        for j, s in enumerate(sig):
            inp = noisy[j : j + 1].reshape(1, -1) if flat else noisy[j : j + 1]
            out[i, j] = model(inp, torch.tensor(s)).reshape(x0.shape[1:]).numpy()
    return dict(steps=np.array(steps), sigmas=np.array(sig), noisy=noisy.numpy(), denoised=out)
