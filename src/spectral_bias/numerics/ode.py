"""Gradient flow of the affine per-σ denoiser solved as an ODE (scipy.integrate.solve_ivp).

Right-hand side from the exact-expectation gradients of eq. (5): dW/dτ = -η ∇_W L_σ, db/dτ = -η ∇_b L_σ with
∇_W L = 2(W(Σ + σ²I + μμᵀ) + bμᵀ - (Σ + μμᵀ)), ∇_b L = 2(Wμ + b - μ). Independent of the matrix-exponential
closed forms in :mod:`spectral_bias.theory.matrix`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.integrate import solve_ivp

from ..theory.validation import check_covariance, check_finite, check_mean, check_positive_scalar, check_times
from .gradient_descent import _single_blas_thread

__all__ = ["gradient_flow_ode"]


def gradient_flow_ode(cov, mean, sigma, tau, *, eta=1.0, w0=None, b0=None, rtol=1e-11, atol=1e-13, method="Radau"):
    """Solve the gradient flow of (W, b) at noise level σ on data with covariance ``cov`` and mean ``mean``.

    ``tau``: increasing array of output times (>= 0). Returns (W, b) with shapes (len(tau), d, d), (len(tau), d).
    ``method``: any solve_ivp method; the default implicit "Radau" (given the exact sparse Jacobian) suits small
    systems whose rates 2η(λ + σ²) span many decades; for d >~ 20 an explicit "DOP853" is much faster unless
    ``tau`` reaches far beyond 1/(2η ν_max). Raises ValueError on bad input.
    """
    c = check_covariance(cov, "cov")
    d = c.shape[0]
    mu = check_mean(mean, d)
    s2 = check_positive_scalar(sigma, "sigma") ** 2
    eta = check_positive_scalar(eta, "eta")
    t = np.atleast_1d(check_times(tau, "tau"))
    if t.ndim != 1 or np.any(np.diff(t) < 0):
        raise ValueError("tau must be a 1-D non-decreasing array")
    W0 = np.zeros((d, d)) if w0 is None else check_finite(w0, "w0")
    B0 = np.zeros(d) if b0 is None else check_mean(b0, d, "b0")
    if W0.shape != (d, d):
        raise ValueError(f"w0 must have shape ({d}, {d}), got {W0.shape}")
    M, C = _input_moments(c, mu, s2)

    def rhs(_, y):
        theta = y.reshape(d, d + 1)
        return (-2.0 * eta * (theta @ M - C)).ravel()

    implicit = method in ("Radau", "BDF", "LSODA")
    jac = {"jac": _block_jacobian(M, d, eta)} if implicit else {}
    y0 = np.hstack([W0, B0[:, None]]).ravel()
    with _single_blas_thread():
        sol = solve_ivp(
            rhs,
            (0.0, float(t[-1]) if t[-1] > 0 else 1e-300),
            y0,
            method=method,
            t_eval=t,
            rtol=rtol,
            atol=atol,
            **jac,
        )
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    theta = sol.y.T.reshape(-1, d, d + 1)
    return theta[:, :, :d], theta[:, :, d]


def _input_moments(c, mu, s2):
    """The input second moment M = [[Σ + σ²I + μμᵀ, μ], [μᵀ, 1]] ((d+1, d+1)) and C = [Σ + μμᵀ, μ] (d, d+1) of the
    stacked Θ = [W, b]: each row of Θ obeys θ_i' = -η ∇ = -2η(θ_i M - c_i) (eq. 5 gradients)."""
    d = c.shape[0]
    M = np.empty((d + 1, d + 1))
    M[:d, :d] = c + s2 * np.eye(d) + np.outer(mu, mu)
    M[:d, d] = M[d, :d] = mu
    M[d, d] = 1.0
    return M, np.hstack([c + np.outer(mu, mu), mu[:, None]])


def _block_jacobian(M, d, eta):
    """The constant Jacobian of the row-major flattened Θ' = -2η(ΘM - C): rows are independent, so it is
    block-diagonal, -2η kron(I_d, M), as a sparse matrix for the implicit solvers (a dense finite-difference
    Jacobian would cost (d² + d)² entries)."""
    return sparse.kron(sparse.identity(d, format="csr"), sparse.csr_matrix(-2.0 * eta * M), format="csc")
