"""Matrix (basis-free) solutions of one-layer gradient flow: non-aligned initialisation and non-centred data.

Wang & Pehlevan (2025), eq. (7) in compact form and App. D.2 (coupled mean/bias dynamics), reconstructed:

* centred data, any W(0):  W(τ) = W* + (W(0) - W*) exp(-2ητ(Σ + σ²I));
* data with mean μ: stack Θ = [W, b] (d x (d+1)); the loss gradient gives dΘ/dτ = -2η(ΘM - C) with
  M = [[Σ + σ²I + μμᵀ, μ], [μᵀ, 1]] and C = [Σ + μμᵀ, μ], so Θ(τ) = Θ* + (Θ(0) - Θ*) exp(-2ητM), Θ* = C M^{-1}
  = [W*, (I - W*)μ]. M is diag(Σ + σ²I, 0) plus the rank-one term (μ,1)(μ,1)ᵀ, so its eigenvalues ν (rates 2ην)
  solve the secular equation 1 - 1/ν + Σ_k m_k²/(λ_k + σ² - ν) = 0 with m_k = u_kᵀμ (modes with m_k = 0 keep
  ν = λ_k + σ²).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from .validation import (
    check_covariance,
    check_finite,
    check_mean,
    check_positive,
    check_positive_scalar,
    check_times,
)

__all__ = ["affine_dynamics", "affine_rate_matrix", "one_layer_weight_matrix", "secular_rates"]


def _sym_expm_apply(lam, u, rate_scale, tau):
    """exp(-rate_scale * tau * S) for S = u diag(lam) uᵀ; tau array -> (*tau.shape, n, n)."""
    e = np.exp(-rate_scale * tau[..., None] * lam)  # (..., n)
    return np.einsum("ik,...k,jk->...ij", u, e, u)


def _check_square(w, d, name):
    w = check_finite(w, name)
    if w.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}), got {w.shape}")
    return w


def one_layer_weight_matrix(cov, sigma, tau, *, eta=1.0, w0=None):
    """W_σ(τ) = W*_σ + (W_σ(0) - W*_σ) exp(-2ητ(Σ + σ²I)) for centred data and ANY initial matrix (eq. 7).

    ``cov``: symmetric PSD (d, d); ``sigma`` > 0 scalar; ``tau`` >= 0 scalar or array (output (*tau.shape, d, d));
    ``w0``: (d, d) initial weight (default 0). Raises ValueError on bad shapes or values.
    """
    c = check_covariance(cov, "cov")
    d = c.shape[0]
    s2 = float(check_positive(sigma, "sigma")) ** 2
    tau = check_times(tau, "tau")
    eta = check_positive_scalar(eta, "eta")
    w0 = np.zeros((d, d)) if w0 is None else _check_square(w0, d, "w0")
    lam, u = np.linalg.eigh(c)
    lam = np.clip(lam, 0.0, None)
    wstar = (u * (lam / (lam + s2))) @ u.T
    e = _sym_expm_apply(lam + s2, u, 2.0 * eta, tau)
    return wstar + (w0 - wstar) @ e


def affine_rate_matrix(cov, mean, sigma):
    """M = [[Σ + σ²I + μμᵀ, μ], [μᵀ, 1]] ((d+1) x (d+1)): the input second moment of [x0 + σz; 1] (App. D.2)."""
    c = check_covariance(cov, "cov")
    d = c.shape[0]
    mu = check_mean(mean, d)
    s2 = float(check_positive(sigma, "sigma")) ** 2
    m = np.empty((d + 1, d + 1))
    m[:d, :d] = c + s2 * np.eye(d) + np.outer(mu, mu)
    m[:d, d] = m[d, :d] = mu
    m[d, d] = 1.0
    return m


def affine_dynamics(cov, mean, sigma, tau, *, eta=1.0, w0=None, b0=None):
    """Coupled gradient flow of an affine denoiser W x + b on data with mean μ (App. D.2; eq. 5 gradients).

    Θ(τ) = Θ* + (Θ(0) - Θ*) exp(-2ητM), Θ = [W, b], Θ* = [W*, (I - W*)μ], M from :func:`affine_rate_matrix`.
    ``cov`` (d, d) symmetric PSD, ``mean`` (d,), ``sigma`` > 0 scalar, ``tau`` >= 0 scalar or array,
    ``w0`` (d, d) and ``b0`` (d,) initial values (default 0). Returns (W, b) with shapes (*tau.shape, d, d) and
    (*tau.shape, d). Raises ValueError on bad input.
    """
    c = check_covariance(cov, "cov")
    d = c.shape[0]
    mu = check_mean(mean, d)
    tau = check_times(tau, "tau")
    eta = check_positive_scalar(eta, "eta")
    w0 = np.zeros((d, d)) if w0 is None else _check_square(w0, d, "w0")
    b0 = np.zeros(d) if b0 is None else check_mean(b0, d, "b0")
    m = affine_rate_matrix(c, mu, sigma)
    nu, v = np.linalg.eigh(m)
    s2 = float(sigma) ** 2
    lam, u = np.linalg.eigh(c)
    wstar = (u * (np.clip(lam, 0, None) / (np.clip(lam, 0, None) + s2))) @ u.T
    theta_star = np.concatenate([wstar, (mu - wstar @ mu)[:, None]], axis=1)
    theta0 = np.concatenate([w0, b0[:, None]], axis=1)
    e = _sym_expm_apply(nu, v, 2.0 * eta, tau)
    theta = theta_star + (theta0 - theta_star) @ e
    return theta[..., :d], theta[..., d]


def secular_rates(cov, mean, sigma):
    """Eigenvalues ν of M (rates 2ην of the coupled W, b dynamics) from the secular equation (App. D.2).

    Solves 1 - 1/ν + Σ_k m_k²/(d_k - ν) = 0, d_k = λ_k + σ², m_k = u_kᵀμ, by bracketing one root between
    consecutive poles (0 and the distinct d_k with m_k ≠ 0) and one above the largest; modes with m_k = 0 and
    repeated d_k keep ν = d_k (deflation). Returns the d+1 values sorted ascending.
    """
    c = check_covariance(cov, "cov")
    d = c.shape[0]
    mu = check_mean(mean, d)
    s2 = float(check_positive(sigma, "sigma")) ** 2
    lam, u = np.linalg.eigh(c)
    poles, weights, fixed = _secular_poles(np.clip(lam, 0.0, None) + s2, (u.T @ mu) ** 2)
    return np.sort(np.array(_secular_roots(poles, weights) + fixed))


def _secular_poles(dk, m2):
    """Poles and weights of the secular function f(ν) = 1 + Σ_i w_i/(p_i − ν) of :func:`secular_rates`: the pole 0
    (weight 1, from the bias row) and the d_k = ``dk`` with weights m_k² = ``m2``, equal poles merged and zero
    weights deflated. Returns (poles, weights) as arrays ascending and the list of deflated eigenvalues."""
    scale = max(dk.max(), 1.0 + m2.sum())
    tol = 1e-13 * scale
    poles, weights, fixed = [0.0], [1.0], []
    for k in np.argsort(dk):
        if m2[k] <= (1e-15 * scale) ** 2:
            fixed.append(dk[k])
        elif abs(dk[k] - poles[-1]) <= tol:
            weights[-1] += m2[k]
            fixed.append(dk[k])
        else:
            poles.append(dk[k])
            weights.append(m2[k])
    return np.array(poles), np.array(weights), fixed


def _secular_roots(poles, weights):
    """The roots of f(ν) = 1 + Σ_i w_i/(p_i − ν), one between consecutive ``poles`` and one above the largest, by
    brentq on a bracket stepped off the poles until f changes sign across it."""

    def f(nu):
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 + np.sum(weights / (poles - nu))

    roots = []
    for i in range(len(poles)):
        lo = poles[i]
        last = i + 1 == len(poles)
        hi = poles[-1] + weights.sum() + 1.0 if last else poles[i + 1]
        eps = 1e-14 * max(hi - lo, abs(lo))
        a = max(lo + eps, np.nextafter(lo, np.inf))
        b = hi if last else min(hi - eps, np.nextafter(hi, -np.inf))
        while not f(a) < 0 and a < b:  # f -> -inf just right of a pole: step off it until the sign is right
            eps *= 10
            a = lo + eps
        while not last and not f(b) > 0 and b > a:  # and f -> +inf just left of the next pole
            b = hi - (hi - b) * 10
        roots.append(brentq(f, a, b, xtol=1e-15 * max(abs(b), 1.0), rtol=4 * np.finfo(float).eps, maxiter=500))
    return roots
