"""erf(x)/x, the special function of the ε-prediction and flow-matching generated variances (chapter 6)."""

from __future__ import annotations

import numpy as np
from scipy.special import erf


def erf_over_x(x):
    """erf(x)/x for x >= 0 with its limit 2/sqrt(pi) at x = 0 (series 2/sqrt(pi) (1 - x²/3) for x < 1e-4); x may be
    inf (gives 0). Used by ``eps_prediction_generated_variance`` and ``flow_matching_generated_variance``."""
    small = x < 1e-4
    xs = np.where(small, 1.0, x)
    with np.errstate(under="ignore"):
        return np.where(small, 2.0 / np.sqrt(np.pi) * (1.0 - np.where(small, x, 0.0) ** 2 / 3.0), erf(xs) / xs)
