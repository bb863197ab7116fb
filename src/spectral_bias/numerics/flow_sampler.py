"""Independent checks for flow matching and other regression objectives: explicit full-matrix gradient flow on
the exact second moments, and a Heun integrator of a linear velocity field acting on actual samples."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..theory.validation import check_finite, check_in_range, check_integer, check_nonnegative, check_positive_scalar
from ._rk4 import rk4_at_times

__all__ = ["flow_matching_moments", "heun_linear_flow", "regression_gradient_flow"]


def flow_matching_moments(cov, t):
    """(S_xx, S_yx) for input x_t = t x_1 + (1 - t) x_0 and target x_1 - x_0 (x_1 ~ N(0, cov), x_0 ~ N(0, I))."""
    cov = check_finite(cov, "cov")
    t = float(check_in_range(t, "t", 0.0, 1.0))
    eye = np.eye(cov.shape[0])
    return t**2 * cov + (1 - t) ** 2 * eye, t * cov - (1 - t) * eye


def regression_gradient_flow(sxx, syx, W0, times, *, eta=1.0, n_sub=200):
    """Gradient flow dW/dtau = -eta * 2 (W S_xx - S_yx) on the full matrix (loss E||W x - y||^2, Lemma C.1),
    integrated with RK4 (n_sub steps per unit of eta*tau*||S_xx||, so ~1e-12 accuracy). Returns (T, d, d)."""
    sxx, syx, W = check_finite(sxx, "sxx"), check_finite(syx, "syx"), check_finite(W0, "W0")
    if sxx.shape != syx.shape or sxx.shape != W.shape or sxx.ndim != 2:
        raise ValueError(f"sxx, syx and W0 must be equal square shapes, got {sxx.shape}, {syx.shape}, {W.shape}")
    eta = check_positive_scalar(eta, "eta")
    times = check_nonnegative(times, "times")
    dt_max = 1.0 / (n_sub * eta * max(np.abs(np.linalg.eigvalsh(0.5 * (sxx + sxx.T))).max(), 1e-12))
    traj = rk4_at_times(lambda st: [-2.0 * eta * (st[0] @ sxx - syx)], [W], times, dt_max)
    return np.array([st[0] for st in traj])


def heun_linear_flow(weight_fn: Callable[[float], np.ndarray], x0, *, n_steps=200, t0=0.0, t1=1.0):
    """Integrate dx/dt = W(t) x for a batch of samples x0 (shape (n, d)) from t0 to t1 with Heun's method.

    weight_fn(t) returns the (d, d) matrix W_t. Global error O(h^2). Returns x(t1), shape (n, d).
    """
    x = check_finite(x0, "x0")
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (n, d), got {x.shape}")
    n_steps = check_integer(n_steps, "n_steps")
    ts = np.linspace(t0, t1, n_steps + 1)
    Wc = weight_fn(ts[0])
    for i in range(n_steps):
        h = ts[i + 1] - ts[i]
        Wn = weight_fn(ts[i + 1])
        k1 = x @ Wc.T
        k2 = (x + h * k1) @ Wn.T
        x = x + 0.5 * h * (k1 + k2)
        Wc = Wn
    return x
