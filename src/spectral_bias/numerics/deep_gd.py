"""Explicit gradient flow on the FULL weight matrices of linear denoisers (independent check of Sec. 5.1).

Nothing here is diagonalised: the loss of one noise level sigma,

    L_sigma(W) = E ||W (x + sigma z) - x||^2 = tr[W (Sigma + sigma^2 I) W^T] - 2 tr[W Sigma] + tr Sigma,

is differentiated with respect to the factors of W (chain rule on matrices) and integrated with classical
RK4 at a step far below the fastest time scale, so the result approximates the gradient flow
d theta / d tau = -eta grad L to ~1e-10.
"""

from __future__ import annotations

import numpy as np

from ..theory.validation import check_finite, check_nonnegative, check_positive_scalar
from ._rk4 import rk4_at_times

__all__ = ["factor_gradient_flow", "loss_gradient_W", "product", "symmetric_gradient_flow"]


def loss_gradient_W(W, cov, sigma):
    """dL_sigma/dW = 2 (W (Sigma + sigma^2 I) - Sigma) for zero-mean data (eq. 5 of Wang & Pehlevan 2025)."""
    d = cov.shape[0]
    return 2.0 * (W @ (cov + sigma**2 * np.eye(d)) - cov)


def product(factors):
    """W_L ... W_1 for factors given in the order [W_1, ..., W_L]."""
    W = factors[0]
    for F in factors[1:]:
        W = F @ W
    return W


def _check(cov, sigma, eta, times):
    cov = check_finite(cov, "cov")
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square matrix, got shape {cov.shape}")
    if not np.allclose(cov, cov.T, atol=1e-12 * max(1.0, np.abs(cov).max())):
        raise ValueError("cov must be symmetric")
    sigma = check_positive_scalar(sigma, "sigma")
    eta = check_positive_scalar(eta, "eta")
    times = check_nonnegative(times, "times")
    if times.ndim != 1 or np.any(np.diff(times) < 0):
        raise ValueError("times must be a 1-D non-decreasing array")
    return cov, sigma, eta, times


def factor_gradient_flow(cov, sigma, factors0, times, *, eta=1.0, dt_max=None):
    """Gradient flow of L_sigma on the factors of W = W_L ... W_1 (any shapes that chain to d x d).

    dW_l/dtau = -eta (W_L...W_{l+1})^T dL/dW (W_{l-1}...W_1)^T. ``factors0`` = [W_1(0), ..., W_L(0)].
    Returns (W_tot, factors): W_tot has shape (len(times), d, d); factors is a list over times of lists of
    factor matrices. Raises ValueError for non-square/non-symmetric cov, sigma <= 0, eta <= 0, bad times.
    """
    cov, sigma, eta, times = _check(cov, sigma, eta, times)
    factors0 = [check_finite(F, "factors0") for F in factors0]
    L = len(factors0)
    scale = max(1.0, max(np.abs(F).max() for F in factors0)) ** (2 * (L - 1))
    if dt_max is None:
        dt_max = 0.02 / (eta * max(1, L) * (np.linalg.eigvalsh(cov).max() + sigma**2) * scale)

    def grad(fs):
        G = loss_gradient_W(product(fs), cov, sigma)
        out = []
        for l in range(L):
            left = product(fs[l + 1 :]) if l + 1 < L else np.eye(G.shape[0])
            right = product(fs[:l]) if l > 0 else np.eye(fs[0].shape[1])
            out.append(-eta * left.T @ G @ right.T)
        return out

    traj = rk4_at_times(grad, factors0, times, dt_max)
    return np.array([product(fs) for fs in traj]), traj


def symmetric_gradient_flow(cov, sigma, P0, times, *, eta=1.0, dt_max=None):
    """Gradient flow of L_sigma on P for the symmetric two-layer denoiser W = P P^T (Prop. 5.1 setting).

    dP/dtau = -eta (G + G^T) P with G = dL/dW. Returns W(tau) = P P^T, shape (len(times), d, d).
    """
    cov, sigma, eta, times = _check(cov, sigma, eta, times)
    P0 = check_finite(P0, "P0")
    if dt_max is None:
        dt_max = 0.02 / (eta * 4 * (np.linalg.eigvalsh(cov).max() + sigma**2) * max(1.0, np.abs(P0).max() ** 2))

    def grad(fs):
        P = fs[0]
        G = loss_gradient_W(P @ P.T, cov, sigma)
        return [-eta * (G + G.T) @ P]

    traj = rk4_at_times(grad, [P0], times, dt_max)
    return np.array([fs[0] @ fs[0].T for fs in traj])
