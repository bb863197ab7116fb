"""Bayes-optimal (ridge) denoiser for Gaussian data and the loss floor (Wang & Pehlevan 2025, eqs. 3, 6; §2.3).

Shapes: ``lam`` and ``sigma`` broadcast against each other (modes x noise levels, e.g. (d, 1) and (S,)).
"""

from __future__ import annotations

import numpy as np

from .validation import check_covariance, check_finite, check_mean, check_nonnegative, check_positive

__all__ = [
    "affine_dsm_loss",
    "loss_floor",
    "optimal_bias",
    "optimal_denoiser",
    "optimal_weight",
    "optimal_weight_matrix",
    "ridge_loss",
]


def optimal_weight(lam, sigma):
    """Optimal per-mode weight w*_k(σ) = λ_k / (λ_k + σ²) (eq. 3/6 in the eigenbasis).

    ``lam`` >= 0 and ``sigma`` > 0 broadcast; returns an array of the broadcast shape.
    Raises ValueError for negative/non-finite ``lam`` or non-positive/non-finite ``sigma``.
    """
    lam = check_nonnegative(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    # as 1/(1 + σ²/λ) with σ²/λ = (σ/√λ)², so that λ = 0 gives 0 and σ² under- or overflowing gives the limits
    # (optimal_weight(0, 1e-200) = 0, optimal_weight(1e-300, 1e-200) = 1) instead of 0/0
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        r = sigma / np.sqrt(lam)
        return np.where(lam > 0, 1.0 / (1.0 + r * r), 0.0)


def optimal_weight_matrix(cov, sigma):
    """W*_σ = Σ (Σ + σ² I)^{-1} (eq. 6) for a symmetric PSD (d, d) ``cov`` and scalar ``sigma`` > 0."""
    c = check_covariance(cov, "cov")
    s2 = float(check_positive(sigma, "sigma")) ** 2
    lam, u = np.linalg.eigh(c)
    lam = np.clip(lam, 0.0, None)
    return (u * (lam / (lam + s2))) @ u.T


def optimal_bias(cov, mean, sigma):
    """b*_σ = (I - W*_σ) μ (eq. 6); ``cov`` (d, d), ``mean`` (d,), scalar ``sigma``."""
    c = check_covariance(cov, "cov")
    mu = check_mean(mean, c.shape[0])
    return mu - optimal_weight_matrix(c, sigma) @ mu


def optimal_denoiser(x, mean, cov, sigma):
    """Posterior mean D*(x; σ) = μ + Σ(Σ + σ²I)^{-1}(x - μ) for x0 ~ N(μ, Σ) (eq. 3).

    ``x`` has shape (..., d); returns the same shape.
    """
    c = check_covariance(cov, "cov")
    mu = check_mean(mean, c.shape[0])
    x = check_finite(x, "x")
    if x.shape[-1:] != (c.shape[0],):
        raise ValueError(f"x must have last dimension {c.shape[0]}, got shape {x.shape}")
    w = optimal_weight_matrix(c, sigma)
    return mu + (x - mu) @ w.T


def loss_floor(lam, sigma):
    """min L_σ = σ² Tr[Σ(Σ + σ²I)^{-1}] = Σ_k λ_k σ² / (λ_k + σ²) (eq. 6).

    ``lam``: 1-D array of eigenvalues (d,), >= 0; ``sigma``: scalar or array (> 0). Returns an array of
    ``sigma``'s shape (the sum runs over the modes).
    """
    lam = check_nonnegative(lam, "lam")
    if lam.ndim != 1:
        raise ValueError(f"lam must be a 1-D array of eigenvalues, got shape {lam.shape}")
    sigma = check_positive(sigma, "sigma")
    s2 = sigma[..., None] ** 2
    return np.sum(lam * s2 / (lam + s2), axis=-1)


def ridge_loss(w, lam, sigma):
    """Per-mode DSM loss of a weight w (ridge view, §2.3): (w - 1)² λ + σ² w². Broadcasts."""
    w = check_finite(w, "w")
    lam = check_nonnegative(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    return (w - 1.0) ** 2 * lam + sigma**2 * w**2


def affine_dsm_loss(W, b, cov, mean, sigma):
    """Exact DSM loss E||W(x0 + σz) + b - x0||² of an affine denoiser from the data moments (Lemma C.1).

    = Tr[W(Σ+σ²I)Wᵀ] - 2 Tr[WΣ] + Tr Σ + ||Wμ + b - μ||². ``W`` (d, d), ``b`` (d,), ``cov`` (d, d), ``mean`` (d,).
    """
    c = check_covariance(cov, "cov")
    d = c.shape[0]
    mu = check_mean(mean, d)
    W = check_finite(W, "W")
    b = check_mean(b, d, "b")
    if W.shape != (d, d):
        raise ValueError(f"W must have shape ({d}, {d}), got {W.shape}")
    s2 = float(check_positive(sigma, "sigma")) ** 2
    r = W @ mu + b - mu
    return float(np.sum((W @ c) * W) + s2 * np.sum(W * W) - 2 * np.trace(W @ c) + np.trace(c) + r @ r)
