"""Training data for the experiments: the rotated log-normal Gaussian of App. I.4 of Wang & Pehlevan (2025),
and images from ``spectral_bias.data``, with the data spectrum used for measurement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DataSpectrum", "empirical_spectrum", "load_training_data", "rotated_gaussian"]


@dataclass
class DataSpectrum:
    """Mean μ (d,), eigenvalues λ_k (d,) descending, eigenvectors U (d, d) as columns u_k (float64)."""

    mean: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray


def rotated_gaussian(d: int, n: int, seed: int = 0):
    """Rotated log-normal Gaussian data (App. I.4 of Wang & Pehlevan 2025).

    λ = exp(z), z ~ N(0, 1)^d, sorted descending and normalised to mean 1; R from the QR decomposition of a
    d×d standard Gaussian matrix (signs fixed so R is Haar); Σ = R diag(λ) Rᵀ; x = R diag(√λ) g.
    Returns (samples float32 (n, d), eigenvalues float64 (d,), rotation float64 (d, d), columns = u_k).
    Raises ValueError if d < 1 or n < 1.
    """
    if int(d) < 1 or int(n) < 1:
        raise ValueError(f"d and n must be positive integers, got d={d}, n={n}")
    rng = np.random.default_rng(seed)
    lam = np.sort(np.exp(rng.standard_normal(d)))[::-1]
    lam = lam / lam.mean()
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    R = q * np.sign(np.diag(r))
    x = (rng.standard_normal((n, d)) * np.sqrt(lam)) @ R.T
    return x.astype(np.float32), lam, R


def empirical_spectrum(x: np.ndarray) -> DataSpectrum:
    """Mean and eigendecomposition (descending) of the sample covariance (divisor n−1) of x of shape (n, d).
    Raises ValueError if x is not 2-d with n >= 2 or is not finite."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"x must have shape (n, d) with n >= 2, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    mu = x.mean(0)
    xc = x - mu
    C = xc.T @ xc / (x.shape[0] - 1)
    lam, U = np.linalg.eigh(C)
    order = np.argsort(lam)[::-1]
    return DataSpectrum(mu, np.clip(lam[order], 0, None), U[:, order])


def load_training_data(cfg) -> tuple[np.ndarray, DataSpectrum]:
    """Training set for a DataConfig ``cfg`` and its spectrum.

    gaussian → samples (n, d) and the exact spectrum (μ = 0, λ, R). Image names → float32 (N, C, H, W) in
    [-1, 1] from ``spectral_bias.data.load`` and the empirical spectrum of the flattened images.
    """
    if cfg.name == "gaussian":
        x, lam, R = rotated_gaussian(cfg.dim, cfg.n_train, cfg.seed)
        return x, DataSpectrum(np.zeros(cfg.dim), lam, R)
    from spectral_bias import data as sbdata  # lead's offline data module

    kw = dict(split="train", n=cfg.n_train, channels=cfg.channels, seed=cfg.seed)
    if cfg.resolution is not None:
        kw["resolution"] = cfg.resolution
    x = np.asarray(sbdata.load(cfg.name, **kw), dtype=np.float32)
    return x, empirical_spectrum(x.reshape(len(x), -1))
