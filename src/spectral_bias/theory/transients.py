"""Exact one-layer emergence times and the early contraction transient (chapters 4-5 of the book).

Two additions to the one-layer theory of Wang & Pehlevan (2025), both derived in the book (not in the paper):

* the contraction transient: while mode k has not started learning, every mode's generated variance follows
  λ̂(τ) ≈ σ_min^{2(1-Q)} (2 e^γ ητ)^{-Q}, independent of λ_k (from Prop. 4.2 with λ_k -> 0);
* the exponent of the "decreasing" branch of the emergence law that this transient implies: 1/(2Q) for the
  geometric-mean criterion and 1/Q for the harmonic one (when λ̂(0) >> λ_k).

Also the emergence time of Prop. 4.2's trajectories found by root-finding (scipy.optimize.brentq) instead of a time
grid, the independent check of :func:`spectral_bias.theory.emergence_time`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from .constants import SIGMA_MAX, SIGMA_MIN
from .emergence import emergence_threshold
from .one_layer import _initial_variance_or_raise, one_layer_log_generated_variance
from .validation import (
    check_choice,
    check_finite,
    check_integer,
    check_positive,
    check_positive_scalar,
    check_sigma_range,
)

__all__ = ["contraction_transient_variance", "decreasing_branch_exponent", "one_layer_emergence_time_exact"]


def contraction_transient_variance(tau, *, eta=1.0, q=0.0, sigma_min=SIGMA_MIN):
    """λ̂(τ) ≈ σ_min^{2(1-Q)} (2 e^γ ητ)^{-Q}: the generated variance of a mode that has not started learning.

    Limit of Prop. 4.2 (Wang & Pehlevan 2025) for 2ητλ_k << 1, 2ητσ_min² << 1 and 2ητσ_max² >> 1 (derived in the
    book, chapter 4, "the contraction transient"); γ is Euler's constant. ``tau`` (> 0) broadcasts with ``q``
    (finite); ``eta`` > 0 and ``sigma_min`` > 0 are scalars. Raises ValueError naming the offending argument.
    """
    tau = check_positive(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    s0 = check_positive_scalar(sigma_min, "sigma_min")
    return s0 ** (2.0 * (1.0 - q)) * (2.0 * np.exp(np.euler_gamma) * eta * tau) ** (-q)


def decreasing_branch_exponent(q, criterion="geometric"):
    """Exponent α of τ* ∝ λ^{-α} for modes that emerge during the contraction transient (decreasing branch).

    Solving :func:`contraction_transient_variance` = threshold gives τ* ∝ threshold^{-1/Q}; the geometric threshold
    sqrt(λ̂(0) λ) gives α = 1/(2Q), the harmonic threshold ≈ 2λ (for λ̂(0) >> λ) gives α = 1/Q. Valid while the
    crossing happens before the mode learns (2ητ*λ << 1); for the harmonic criterion with Q < 1, 2ητ*λ grows like
    λ^{1-1/Q} as λ falls, so the law holds only over a limited range of λ. ``q`` > 0 (scalar or array).
    Raises ValueError for q <= 0 or an unknown criterion.
    """
    check_choice(criterion, "criterion", {"geometric", "harmonic"})
    q = check_positive(q, "q")
    return 1.0 / (2.0 * q) if criterion == "geometric" else 1.0 / q


def one_layer_emergence_time_exact(
    lam,
    *,
    eta=1.0,
    q=0.0,
    criterion="geometric",
    initial=None,
    sigma_min=SIGMA_MIN,
    sigma_max=SIGMA_MAX,
    tau_min=1e-8,
    tau_max=1e10,
    n_scan=361,
):
    """First-passage time of Prop. 4.2's λ̂_k(τ) through its emergence threshold, by bracketing + brentq.

    For each mode, ln λ̂_k(τ) - ln θ_k is scanned on ``n_scan`` log-spaced times in [tau_min, tau_max] (from the
    start's side of the threshold) and the first sign change is refined with scipy.optimize.brentq in ln τ to
    machine precision. θ_k is the geometric or harmonic mean of ``initial`` (default the exact λ̂(0) =
    σ_max² (σ_min/σ_max)^{2(1-Q)}) and λ_k (Wang & Pehlevan 2025, §4). Crossings closer together than one scan step
    could be missed; the default step is 1/20 of a decade, far finer than any feature of these trajectories.

    ``lam``: (n,) or scalar, > 0. Returns (τ*, increasing): arrays of the shape of ``lam``; τ* is NaN where the
    mode does not cross within [tau_min, tau_max]. Raises ValueError for bad arguments.
    """
    lam = check_positive(lam, "lam")
    eta = check_positive_scalar(eta, "eta")
    q = float(check_finite(q, "q"))
    check_choice(criterion, "criterion", {"geometric", "harmonic"})
    s0, sT = check_sigma_range(sigma_min, sigma_max)
    t0 = check_positive_scalar(tau_min, "tau_min")
    t1 = check_positive_scalar(tau_max, "tau_max")
    if t0 >= t1:
        raise ValueError(f"tau_min must be smaller than tau_max, got {t0} >= {t1}")
    n_scan = check_integer(n_scan, "n_scan", min_value=2)
    start = _initial_variance_or_raise(q, s0, sT) if initial is None else initial
    start = check_positive(start, "initial")
    thr = np.broadcast_to(emergence_threshold(start, lam, criterion), lam.shape)
    increasing = np.broadcast_to(start, lam.shape) < thr
    grid = np.linspace(np.log(t0), np.log(t1), int(n_scan))
    out = np.full(lam.shape, np.nan)
    for idx in np.ndindex(lam.shape):
        sign = 1.0 if increasing[idx] else -1.0
        model = dict(eta=eta, q=q, sigma_min=s0, sigma_max=sT)
        out[idx] = _first_root_in_log_time(lam[idx], np.log(thr[idx]), sign, grid, t0, model)
    return out, increasing.copy()


def _first_root_in_log_time(lam, log_thr, sign, grid, t_first, model):
    """First crossing time of ln λ̂(τ) (Prop. 4.2 for one mode ``lam`` with the keywords ``model``) through
    ``log_thr``, approached from below (``sign`` = 1) or above (-1): the first point of the ln τ ``grid`` past it,
    refined by brentq between it and the point before. ``t_first`` (the time exp(grid[0])) if the mode starts past
    it, NaN if it never gets there."""

    def gap(lt):  # >= 0 once the threshold has been reached from the starting side
        return sign * (one_layer_log_generated_variance(lam, np.exp(lt), **model) - log_thr)

    past = np.flatnonzero(gap(grid) >= 0)
    if past.size == 0:
        return np.nan
    j = past[0]
    if j == 0:
        return t_first
    return np.exp(brentq(gap, grid[j - 1], grid[j], xtol=1e-14, rtol=1e-14))
