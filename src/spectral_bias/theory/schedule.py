"""Noise-level schedule of the EDM sampler (Karras et al. 2022, eq. 5), numpy only."""

from __future__ import annotations

import numpy as np

from .constants import SIGMA_MAX, SIGMA_MIN
from .validation import check_positive_scalar, check_sigma_range

__all__ = ["edm_sigma_schedule"]


def edm_sigma_schedule(n_steps, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX, rho=7, *, append_zero=False):
    """Decreasing noise levels σ_i = (σ_max^{1/ρ} + i/(N-1) (σ_min^{1/ρ} - σ_max^{1/ρ}))^ρ, i = 0..N-1.

    Returns an array of shape (n_steps,) from σ_max down to σ_min (plus a final 0 if ``append_zero``, as in the
    EDM image sampler; the theory of Prop. 4.2 stops at σ_min, so the default does not append it).
    Raises ValueError if ``n_steps`` < 2 or not an integer, ``rho`` <= 0, or sigma_min >= sigma_max.
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}")
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    rho = check_positive_scalar(rho, "rho")
    i = np.arange(n_steps, dtype=np.float64) / (n_steps - 1)
    s = (smax ** (1 / rho) + i * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    s[0], s[-1] = smax, smin  # exact end points
    return np.append(s, 0.0) if append_zero else s
