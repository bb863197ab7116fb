"""Gradient flow of the affine per-σ denoiser solved as an ODE (scipy.integrate.solve_ivp).

Right-hand side from the exact-expectation gradients of eq. (5): dW/dτ = -η ∇_W L_σ, db/dτ = -η ∇_b L_σ with
∇_W L = 2(W(Σ + σ²I + μμᵀ) + bμᵀ - (Σ + μμᵀ)), ∇_b L = 2(Wμ + b - μ). Independent of the matrix-exponential
closed forms in :mod:`spectral_bias.theory.matrix`.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from ..theory.validation import check_covariance, check_finite, check_mean, check_positive_scalar, check_times

__all__ = ["gradient_flow_ode"]


def gradient_flow_ode(cov, mean, sigma, tau, *, eta=1.0, w0=None, b0=None, rtol=1e-11, atol=1e-13):
    """Solve the gradient flow of (W, b) at noise level σ on data with covariance ``cov`` and mean ``mean``.

    ``tau``: increasing array of output times (>= 0). Returns (W, b) with shapes (len(tau), d, d), (len(tau), d).
    Uses an implicit solver (Radau), since rates 2η(λ + σ²) can span many decades. Raises ValueError on bad input.
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
    sxx = c + s2 * np.eye(d) + np.outer(mu, mu)
    syx = c + np.outer(mu, mu)

    def rhs(_, y):
        W = y[: d * d].reshape(d, d)
        b = y[d * d:]
        gb = 2.0 * (W @ mu + b - mu)
        gW = 2.0 * (W @ sxx + np.outer(b, mu) - syx)
        return -eta * np.concatenate([gW.ravel(), gb])

    y0 = np.concatenate([W0.ravel(), B0])
    jac = None
    sol = solve_ivp(rhs, (0.0, float(t[-1]) if t[-1] > 0 else 1e-300), y0, method="Radau", t_eval=t, rtol=rtol,
                    atol=atol, jac=jac)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    y = sol.y.T
    return y[:, : d * d].reshape(-1, d, d), y[:, d * d:]
