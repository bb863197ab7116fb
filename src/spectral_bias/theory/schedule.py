"""Noise-level schedule of the EDM sampler (Karras et al. 2022, eq. 5), numpy only."""

from __future__ import annotations

import numpy as np

from .constants import SIGMA_MAX, SIGMA_MIN
from .validation import check_integer, check_positive_scalar, check_sigma_range

__all__ = ["edm_sigma_schedule"]


def edm_sigma_schedule(n_steps, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX, rho=7, *, append_zero=False):
    """Decreasing noise levels σ_i = (σ_max^{1/ρ} + i/(N-1) (σ_min^{1/ρ} - σ_max^{1/ρ}))^ρ, i = 0..N-1.

    Returns an array of shape (n_steps,) from σ_max down to σ_min (plus a final 0 if ``append_zero``, as in the
    EDM image sampler; the theory of Prop. 4.2 stops at σ_min, so the default does not append it).
    Raises ValueError if ``n_steps`` < 2 or not an integer, ``rho`` <= 0, sigma_min >= sigma_max, or the schedule
    is not finite and strictly decreasing in float64 (extreme ``rho`` with extreme σ).
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}")
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    rho = check_positive_scalar(rho, "rho")
    i = np.arange(n_steps, dtype=np.float64) / (n_steps - 1)
    try:
        with np.errstate(all="ignore"):
            s = (smax ** (1 / rho) + i * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    except OverflowError:  # sigma_max ** (1/rho) of Python floats
        s = np.full(n_steps, np.inf)
    s[0], s[-1] = smax, smin  # exact end points
    if not (np.all(np.isfinite(s)) and np.all(np.diff(s) < 0)):
        raise ValueError(
            f"rho={rho:g} with sigma_min={smin:g}, sigma_max={smax:g} gives a noise schedule that is not "
            f"finite and strictly decreasing in float64"
        )
    return np.append(s, 0.0) if append_zero else s


def heun_sampler_sigmas(sampler_steps, rho, sigma_min, sigma_max):
    """The noise levels the networks' sampler visits: ``sampler_steps`` (>= 2) levels of :func:`edm_sigma_schedule`
    with ``rho``, then 0 (N Heun steps and a final Euler step). The discrete counterpart of the continuous PF-ODE in
    chapter 12's generated variances (``finite_sample_generated_variance``, ``shared_generated_variance``).
    Raises ValueError/TypeError naming sampler_steps or rho."""
    steps = check_integer(sampler_steps, "sampler_steps", min_value=2)
    rho = check_positive_scalar(rho, "rho")
    return edm_sigma_schedule(steps, sigma_min, sigma_max, rho, append_zero=True)
