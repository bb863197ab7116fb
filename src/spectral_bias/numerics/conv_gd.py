"""Gradient flow on the taps of a circular convolution, computed in pixel space (independent check of Sec. 5.2).

W = sum_j w_j B_j with B_j the d x d matrix of x -> (x_{i + o_j})_i (circular shift, 1-D or 2-D, row-major).
The loss of one noise level is the exact expectation L = tr[W (Sigma + s^2) W^T] - 2 tr[W Sigma] + tr Sigma for any
(also non-stationary) Sigma; dL/dw_j = <dL/dW, B_j>_F. Nothing is diagonalised.
"""

from __future__ import annotations

import numpy as np

from ..theory.validation import check_finite, check_nonnegative, check_positive_scalar
from ._rk4 import rk4_at_times

__all__ = ["filter_matrix", "optimal_taps", "shift_matrices", "tap_gradient_flow"]


def shift_matrices(shape, offsets):
    """B_j (K, d, d) with (B_j x)_i = x_{i + o_j} (circular), for offsets of shape (K, ndim)."""
    shape = tuple(int(s) for s in shape)
    offsets = np.asarray(offsets).reshape(len(offsets), -1)
    if offsets.shape[1] != len(shape):
        raise ValueError(f"offsets must have {len(shape)} columns for shape {shape}, got {offsets.shape}")
    d = int(np.prod(shape))
    idx = np.indices(shape).reshape(len(shape), -1).T  # (d, ndim)
    out = np.zeros((len(offsets), d, d))
    for j, o in enumerate(offsets):
        src = np.ravel_multi_index(tuple(((idx + o) % np.array(shape)).T), shape)
        out[j, np.arange(d), src] = 1.0
    return out


def filter_matrix(taps, basis):
    """W = sum_j w_j B_j."""
    return np.tensordot(taps, basis, axes=([0], [0]))


def tap_gradient_flow(cov, sigma, basis, w0, times, *, eta=1.0, n_sub=100):
    """Gradient flow dw/dtau = -eta dL_sigma/dw on the taps (RK4, n_sub steps per fastest time scale).
    Returns taps, shape (len(times), K)."""
    cov = check_finite(cov, "cov")
    sigma = check_positive_scalar(sigma, "sigma")
    eta = check_positive_scalar(eta, "eta")
    w = check_finite(w0, "w0").copy()
    times = check_nonnegative(times, "times")
    A = cov + sigma**2 * np.eye(cov.shape[0])
    # the loss is quadratic in w: L = w^T H w - 2 w^T g + const with H_jl = tr(B_j A B_l^T), g_j = tr(B_j Sigma)
    # (we still integrate the flow numerically instead of using the closed form)
    H = np.einsum("jab,bc,lac->jl", basis, A, basis)
    g = np.einsum("jab,ba->j", basis, cov)
    dt_max = 1.0 / (n_sub * eta * 2.0 * np.linalg.eigvalsh(H).max())
    traj = rk4_at_times(lambda st: [-eta * 2.0 * (H @ st[0] - g)], [w], times, dt_max)
    return np.array([st[0] for st in traj])


def optimal_taps(cov, sigma, basis):
    """Least-squares taps argmin_w E||W(x + sigma z) - x||^2 in tap space (normal equations H w = g)."""
    cov = check_finite(cov, "cov")
    A = cov + sigma**2 * np.eye(cov.shape[0])
    H = np.einsum("jab,bc,lac->jl", basis, A, basis)
    g = np.einsum("jab,ba->j", basis, cov)
    return np.linalg.solve(H, g)
