"""A linear denoiser trained on n samples instead of the population (chapter 12).

The theory trains on the exact expectation over the data. With a finite training set the gradient of the
denoising loss, with the noise averaged exactly, depends on the samples only through their second moment
Ŝ = XᵀX/n (Gaussian equivalence, Lemma C.1), so a bias-free model D = W_σ x started at W_σ(0) = Q I learns
Ŝ = Û diag(λ̂) Ûᵀ instead of Σ: every formula of chapters 3–5 holds with (λ̂_j, û_j) in place of (λ_k, u_k). All
W_σ share the eigenbasis Û, so they commute (Lemma 4.1) and the generated covariance is Û diag(λ̂_gen(λ̂_j, τ)) Ûᵀ.
Measured along a fixed basis (the population eigenvectors u_k, as an experiment that compares with the data's
spectrum does), the generated variance of direction k is

    Σ_j (u_kᵀ û_j)² λ̂_gen(λ̂_j, τ),                                                         (eq. F)

a mixture of the learning curves of the empirical modes that overlap u_k. Population modes whose λ_k is below the
sampling spread of Ŝ (for Gaussian data, λ̂ scatters like Marchenko–Pastur; for n < d, d − n directions have λ̂ = 0
and are never learned) borrow the curves of their neighbours. The check against explicit gradient descent on the
samples and a matrix Heun sampler is in tests/test_theory_finite_samples.py.
"""

from __future__ import annotations

import numpy as np

from .constants import SIGMA_MAX, SIGMA_MIN
from .generated import heun_generated_variance
from .one_layer import one_layer_generated_variance, one_layer_weight
from .schedule import heun_sampler_sigmas
from .validation import check_choice, check_finite, check_integer, check_positive_scalar, check_sigma_range, check_times
from .weighting import preconditioned_generated_variance, preconditioned_weight

__all__ = ["empirical_spectrum", "finite_sample_generated_variance"]


def empirical_spectrum(x):
    """Eigenvalues (descending, clipped at 0) and eigenvectors (columns) of the second moment Ŝ = XᵀX/n of the
    samples ``x`` (n, d). Raises ValueError/TypeError naming ``x`` for a non-finite, non-real or non-2-D ``x``, and
    for samples so large that Ŝ leaves the float64 range."""
    x = check_finite(x, "x")
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x must have shape (n_samples, d) with n_samples >= 1 and d >= 1, got {x.shape}")
    # Ŝ = s² (x/s)ᵀ(x/s)/n with s = max|x|: no overflow or underflow in the product itself
    s = float(np.abs(x).max())
    if s == 0.0:
        s = 1.0
    xs = x / s
    vals, vecs = np.linalg.eigh(xs.T @ xs / x.shape[0])
    with np.errstate(over="ignore"):
        vals = vals * s * s  # numpy arithmetic: inf on overflow, checked below (a Python s**2 would raise)
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"x is too large: the second moment XᵀX/n leaves the float64 range (max |x| = {s:g})")
    return np.clip(vals[::-1], 0.0, None), vecs[:, ::-1]


def finite_sample_generated_variance(
    x,
    tau,
    basis,
    *,
    model="one-layer",
    q=0.1,
    eta=1.0,
    sampler_steps=None,
    rho=7.0,
    sigma_min=SIGMA_MIN,
    sigma_max=SIGMA_MAX,
):
    """Generated variance along the columns of ``basis`` (d, K) of a bias-free linear denoiser trained on the samples
    ``x`` (n, d) for times ``tau`` (T,) (eq. F, chapter 12). Returns (K, T).

    ``model``: "one-layer" (W_σ(0) = ``q`` I, rate 2η(λ̂ + σ²), Prop. 4.2) or "edm-preconditioned" (chapter 8's
    per-σ model under EDM preconditioning, weighting and noise sampling; ``q`` unused). ``sampler_steps=None``: the
    continuous PF-ODE from σ_max to σ_min; an integer N: N Heun steps on the EDM schedule with ``rho`` and a final
    Euler step to 0 (the networks' sampler). Raises ValueError/TypeError naming the argument.
    """
    lam_hat, U_hat = empirical_spectrum(x)
    B = check_finite(basis, "basis")
    if B.ndim != 2 or B.shape[0] != U_hat.shape[0]:
        raise ValueError(f"basis must have shape (d, K) with d = x.shape[1] = {U_hat.shape[0]}, got {B.shape}")
    t = check_times(tau, "tau")
    if t.ndim != 1:
        raise ValueError(f"tau must be 1-D, got shape {t.shape}")
    check_choice(model, "model", {"one-layer", "edm-preconditioned"})
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    eta = check_positive_scalar(eta, "eta")
    if sampler_steps is not None:
        sampler_steps = check_integer(sampler_steps, "sampler_steps", min_value=2)
        rho = check_positive_scalar(rho, "rho")
    with np.errstate(over="ignore"):
        overlap = (B.T @ U_hat) ** 2  # (K, d)
    if not np.all(np.isfinite(overlap)):
        raise ValueError(
            "basis is too large: its squared projections on the empirical eigenvectors leave the float64 range"
        )
    sig = None if sampler_steps is None else heun_sampler_sigmas(sampler_steps, rho, smin, smax)
    gen = _empirical_learning_curves(lam_hat, t, model, q=q, eta=eta, sigmas=sig, sigma_min=smin, sigma_max=smax)
    if not np.all(np.isfinite(gen)):
        at = f"q={np.max(q):g}, " if model == "one-layer" else ""
        at += f"rho={rho:g}, sampler_steps={sampler_steps}, " if sampler_steps is not None else ""
        raise ValueError(
            f"the generated variance leaves the float64 range at {at}eta={eta:g}, sigma_min={smin:g}, "
            f"sigma_max={smax:g} (largest empirical variance of x {lam_hat[0]:g}, largest tau "
            f"{t.max(initial=0.0):g})"
        )
    with np.errstate(over="ignore"):
        out = overlap @ gen
    if not np.all(np.isfinite(out)):
        raise ValueError(
            "x and basis are too large: the generated variance along the columns of basis leaves the float64 range"
        )
    return out


def _empirical_learning_curves(lam_hat, t, model, *, q, eta, sigmas, sigma_min, sigma_max):
    """λ̂_gen(λ̂_j, τ) (d, T) of every empirical mode ``lam_hat`` (d,) at the times ``t`` (T,): the one-layer
    (Prop. 4.2) or EDM-preconditioned (chapter 8) model, through the continuous PF-ODE (``sigmas`` None) or the
    Heun sampler on the schedule ``sigmas``."""
    L, T = lam_hat[:, None], t[None, :]
    if sigmas is None:
        if model == "one-layer":
            return one_layer_generated_variance(L, T, eta=eta, q=q, sigma_min=sigma_min, sigma_max=sigma_max)
        return preconditioned_generated_variance(L, T, eta=eta, sigma_min=sigma_min, sigma_max=sigma_max)
    if model == "one-layer":
        return heun_generated_variance(one_layer_weight, L, T, sigmas, eta=eta, q=q)
    return heun_generated_variance(preconditioned_weight, L, T, sigmas, eta=eta)
