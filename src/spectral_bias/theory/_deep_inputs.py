"""Argument checks shared by the deep-linear, convolution, flow-matching and weighting modules.

Every public function validates its inputs here, so that bad input raises a ValueError/TypeError
that names the argument and says what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_float", "check_sigma_range", "check_positive_scalar", "check_int"]


def as_float(x, name: str, *, min_value: float | None = None, strict: bool = False,
             max_value: float | None = None) -> np.ndarray:
    """Return ``x`` as a float64 array; raise if it is not real, not finite, or out of range.

    ``min_value`` with ``strict=False`` requires ``x >= min_value``; with ``strict=True`` ``x > min_value``.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a real number or array of real numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be array-like of real numbers") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must contain real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got a complex array")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got non-finite values")
    if min_value is not None:
        bad = arr <= min_value if strict else arr < min_value
        if np.any(bad):
            rel = ">" if strict else ">="
            raise ValueError(f"{name} must be {rel} {min_value}, got min {arr.min():g}")
    if max_value is not None and np.any(arr > max_value):
        raise ValueError(f"{name} must be <= {max_value}, got max {arr.max():g}")
    return arr


def check_positive_scalar(x, name: str) -> float:
    """A finite scalar > 0 (learning rates, data scales)."""
    arr = as_float(x, name, min_value=0.0, strict=True)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    return float(arr)


def check_sigma_range(sigma_min, sigma_max) -> tuple[float, float]:
    """Validate the sampling interval 0 < sigma_min < sigma_max < inf."""
    smin = check_positive_scalar(sigma_min, "sigma_min")
    smax = check_positive_scalar(sigma_max, "sigma_max")
    if smin >= smax:
        raise ValueError(f"sigma_min must be < sigma_max, got sigma_min={smin:g}, sigma_max={smax:g}")
    return smin, smax


def check_int(x, name: str, *, min_value: int = 1) -> int:
    """An integer (not bool, not float) >= min_value."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
    if x < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {x}")
    return int(x)
