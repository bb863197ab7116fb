"""Explicit training of EDM-preconditioned linear denoisers on samples, with gradient descent or Adam (numpy).

The independent check of :mod:`spectral_bias.theory.shared_weights` (eq. S of chapter 12) and of the per-σ
preconditioned model of chapter 8, and the tool chapter 12 uses where no closed form exists (Adam, rotated data).
The model at training noise level σ_j is

    W_j = c_skip(σ_j) I + c_out(σ_j) c_in(σ_j) Σ_m Φ[j, m] V_m          (EDM preconditioning, Karras et al. 2022)

with full d × d matrices V_m (no assumption of alignment), and the loss is the quadrature over noise levels

    L = Σ_j ω_j λ(σ_j) [ mean_i ||(W_j − I) x_i||² + σ_j² ||W_j||_F² ],   λ(σ) = (σ² + σ_d²)/(σ σ_d)²,

i.e. the EDM-weighted denoising loss with the expectation over the noise z taken exactly (the ridge view, §2.3),
computed from the residuals of the samples ``x0`` at every step. ``Φ`` = ones((J, 1)) shares one matrix across the
noise levels; ``Φ`` = identity gives every σ_j its own matrix (the per-σ model; with ω_j = p(σ_j) this is
:func:`spectral_bias.theory.preconditioned_weight`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..theory.constants import SIGMA_DATA
from ..theory.validation import check_choice, check_finite, check_positive_scalar
from ..theory.weighting import edm_loss_weight, edm_preconditioning
from .gradient_descent import _descend_and_record, _recorded_steps

__all__ = ["LinearTraining", "heun_generated_covariance", "train_preconditioned_linear", "weights_at_nodes"]


class LinearTraining(NamedTuple):
    """Recorded iterates: ``steps`` (R,), ``tau`` = steps * lr (R,) (gradient-flow time for "gd"; for "adam" only
    the step count is meaningful), ``V`` (R, M, d, d), ``loss`` (R,)."""

    steps: np.ndarray
    tau: np.ndarray
    V: np.ndarray
    loss: np.ndarray


def weights_at_nodes(V, sigmas, features, *, sigma_data=SIGMA_DATA):
    """W_j = c_skip(σ_j) I + c_out c_in Σ_m features[j, m] V[..., m, :, :] for every node: V (..., M, d, d),
    sigmas (J,), features (J, M) → (..., J, d, d)."""
    V = np.asarray(V, dtype=float)
    sig = np.asarray(sigmas, dtype=float)
    c_skip, c_out, c_in = edm_preconditioning(sig, sigma_data=sigma_data)
    inner = np.einsum("jm,...mab->...jab", np.asarray(features, dtype=float), V)
    d = V.shape[-1]
    return c_skip[:, None, None] * np.eye(d) + (c_out * c_in)[:, None, None] * inner


def train_preconditioned_linear(
    x0,
    sigmas,
    sigma_weights,
    features,
    *,
    optimizer="gd",
    lr,
    n_steps,
    record_steps=None,
    sigma_data=SIGMA_DATA,
    betas=(0.9, 0.999),
    eps=1e-8,
    v0=None,
):
    """Train the V_m of the module's model on samples ``x0`` (n, d) by full-batch gradient descent or Adam.

    ``sigmas`` (J,) > 0 training noise levels, ``sigma_weights`` (J,) >= 0 their weights ω_j (quadrature weights of
    the noise distribution, or densities for the per-σ model), ``features`` (J, M) the matrix Φ. ``optimizer``:
    "gd" (V ← V − lr ∇L; small ``lr`` approximates gradient flow with η = 1 at τ = step * lr) or "adam" (Kingma & Ba
    2015, bias-corrected, ``betas``, ``eps``; each entry of every V_m gets its own normalised step). ``v0``: initial
    V (M, d, d), default 0. Records at ``record_steps`` (default 0 and n_steps).
    Returns a :class:`LinearTraining`. Raises ValueError/TypeError naming the argument.
    """
    x = check_finite(x0, "x0")
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (n_samples, d), got {x.shape}")
    n, d = x.shape
    sig, om, phi = _noise_levels(sigmas, sigma_weights, features)
    M = phi.shape[1]
    check_choice(optimizer, "optimizer", {"gd", "adam"})
    lr = check_positive_scalar(lr, "lr")
    rec = _recorded_steps(n_steps, record_steps)
    V = np.zeros((M, d, d)) if v0 is None else check_finite(v0, "v0").copy()
    if V.shape != (M, d, d):
        raise ValueError(f"v0 must have shape ({M}, {d}, {d}), got {V.shape}")
    loss_and_grad = _weighted_loss_and_grad(x, sig, om, phi, check_positive_scalar(sigma_data, "sigma_data"))
    b1, b2 = (float(b) for b in betas)
    moments = [np.zeros_like(V), np.zeros_like(V)]

    def update(step, grad):
        if optimizer == "gd":
            np.subtract(V, lr * grad, out=V)
        else:
            moments[:] = _adam_step(V, grad, *moments, step + 1, lr=lr, betas=(b1, b2), eps=eps)

    records = _descend_and_record(lambda: loss_and_grad(V), V.copy, update, n_steps, rec)
    return LinearTraining(rec, rec * lr, np.array([v for v, _ in records]), np.array([loss for _, loss in records]))


def _noise_levels(sigmas, sigma_weights, features):
    """Validate the training noise levels σ_j (J,) > 0, their weights ω_j (J,) >= 0 and the features Φ (J, M) of
    :func:`train_preconditioned_linear`. Raises ValueError/TypeError naming the argument."""
    sig = check_finite(sigmas, "sigmas").ravel()
    if sig.size == 0 or np.any(sig <= 0):
        raise ValueError("sigmas must be a non-empty array of positive noise levels")
    om = check_finite(sigma_weights, "sigma_weights").ravel()
    if om.shape != sig.shape or np.any(om < 0):
        raise ValueError(f"sigma_weights must be non-negative with the shape of sigmas {sig.shape}, got {om.shape}")
    phi = check_finite(features, "features")
    if phi.ndim != 2 or phi.shape[0] != sig.size:
        raise ValueError(f"features must have shape (len(sigmas)={sig.size}, M), got {phi.shape}")
    return sig, om, phi


def _weighted_loss_and_grad(x, sig, om, phi, sigma_data):
    """The module's loss L(V) = Σ_j ω_j λ(σ_j) [mean_i ||(W_j − I) x_i||² + σ_j² ||W_j||_F²] on the samples ``x``
    (n, d), W_j = c_skip I + c_out c_in Σ_m Φ[j, m] V_m: returns the function V (M, d, d) -> (L, ∂L/∂V)."""
    n, d = x.shape
    c_skip, c_out, c_in = edm_preconditioning(sig, sigma_data=sigma_data)
    g = c_out * c_in
    lw = om * edm_loss_weight(sig, sigma_data=sigma_data)  # ω_j λ(σ_j)
    eye = np.eye(d)

    def loss_and_grad(V):
        W = c_skip[:, None, None] * eye + g[:, None, None] * np.einsum("jm,mab->jab", phi, V)
        R = np.einsum("na,jba->jnb", x, W) - x  # residuals (W_j x_i - x_i), shape (J, n, d)
        loss = np.sum(lw * (np.einsum("jnb,jnb->j", R, R) / n + sig**2 * np.einsum("jab,jab->j", W, W)))
        GW = 2.0 * lw[:, None, None] * (np.einsum("jnb,na->jba", R, x) / n + sig[:, None, None] ** 2 * W)
        return loss, np.einsum("jm,jab->mab", phi * g[:, None], GW)

    return loss_and_grad


def _adam_step(V, grad, m1, m2, t, *, lr, betas, eps):
    """One bias-corrected Adam step (Kingma & Ba 2015) at step number ``t`` >= 1: updates V in place and returns the
    new first and second moments (m1, m2)."""
    b1, b2 = betas
    m1 = b1 * m1 + (1.0 - b1) * grad
    m2 = b2 * m2 + (1.0 - b2) * grad**2
    np.subtract(V, lr * (m1 / (1.0 - b1**t)) / (np.sqrt(m2 / (1.0 - b2**t)) + eps), out=V)
    return m1, m2


def heun_generated_covariance(weights, sigmas):
    """Covariance of the samples the Heun sampler (EDM Alg. 1 without churn) generates with a linear denoiser
    D(x; σ_j) = W_j x given as matrices: ``weights`` (..., J, d, d) at the J positive entries of the schedule
    ``sigmas`` (J or J + 1 entries, strictly decreasing, optionally ending with 0, where the last step is Euler).
    The sampler is linear, x_end = A x_start with x_start ~ N(0, σ_0² I), so the covariance is σ_0² A Aᵀ; A is the
    product of the step matrices (matrix form of :func:`spectral_bias.theory.heun_generated_variance`; no
    commutation assumed). Returns (..., d, d). Raises ValueError for a bad schedule or shapes."""
    sig = check_finite(sigmas, "sigmas").ravel()
    pos = sig[sig > 0]
    if sig.size < 2 or np.any(np.diff(sig) >= 0) or np.any(sig[:-1] <= 0):
        raise ValueError("sigmas must be strictly decreasing, positive except possibly a last 0")
    W = check_finite(weights, "weights")
    if W.ndim < 3 or W.shape[-3] != pos.size or W.shape[-1] != W.shape[-2]:
        raise ValueError(f"weights must have shape (..., {pos.size}, d, d), got {W.shape}")
    d = W.shape[-1]
    eye = np.eye(d)
    A = np.broadcast_to(eye, W.shape[:-3] + (d, d)).copy()
    for i, (s, s_next) in enumerate(zip(sig[:-1], sig[1:])):
        a = (eye - W[..., i, :, :]) / s
        if s_next > 0:
            h = s_next - s
            b = (eye - W[..., i + 1, :, :]) / s_next
            G = eye + 0.5 * h * (a + b @ (eye + h * a))
        else:
            G = eye - s * a
        A = G @ A
    return sig[0] ** 2 * A @ np.swapaxes(A, -1, -2)
