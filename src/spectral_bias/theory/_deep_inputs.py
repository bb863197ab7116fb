"""Argument checks for the deep-linear, convolution, flow-matching, objective and weighting modules.

Thin layer over :mod:`spectral_bias.theory.validation` (the package's shared checks): it adds range checks with an
upper bound (e.g. flow-matching time t in [0, 1]) and integer arguments (depth, sizes). Every failure raises a
ValueError/TypeError that names the argument and says what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np

from .validation import check_broadcastable, check_finite, check_positive_scalar, check_sigma_range

__all__ = ["as_float", "check_broadcastable", "check_int", "check_positive_scalar", "check_sigma_range"]


def as_float(
    x, name: str, *, min_value: float | None = None, strict: bool = False, max_value: float | None = None
) -> np.ndarray:
    """``x`` as a finite float64 array (validation.check_finite), optionally with ``x >= min_value``
    (``x > min_value`` if ``strict``) and ``x <= max_value``. None, booleans, strings and complex values raise
    TypeError (validation.as_float_array)."""
    arr = check_finite(x, name)
    if min_value is not None:
        bad = arr <= min_value if strict else arr < min_value
        if np.any(bad):
            raise ValueError(f"{name} must be {'>' if strict else '>='} {min_value}, got minimum {arr.min():g}")
    if max_value is not None and np.any(arr > max_value):
        raise ValueError(f"{name} must be <= {max_value}, got maximum {arr.max():g}")
    return arr


def check_int(x, name: str, *, min_value: int = 1) -> int:
    """An integer (not a bool or a float) >= min_value."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
    if x < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {x}")
    return int(x)
