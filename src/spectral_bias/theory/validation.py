"""Shared argument checks for the whole package (numpy only).

Every check raises ``ValueError`` (or ``TypeError`` for non-numeric input) with a message that names the
argument and says what was expected, so a reader sees at once which input was wrong. One idiom for every theory
and numerics module: ``check_*(x, name, ...)`` returns the checked value (a float64 array, a float or an int).
"""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np

__all__ = [
    "as_float_array",
    "check_broadcastable",
    "check_choice",
    "check_covariance",
    "check_finite",
    "check_in_range",
    "check_integer",
    "check_mean",
    "check_nonnegative",
    "check_positive",
    "check_positive_scalar",
    "check_real_scalar",
    "check_same_shape",
    "check_sigma_range",
    "check_times",
    "guard_float_range",
]


def as_float_array(x, name: str) -> np.ndarray:
    """Convert ``x`` to a float64 array. Raise TypeError naming ``name`` unless it is a real number or an array of
    real numbers (ints or floats): None, booleans, strings, bytes, complex numbers (even with a zero imaginary
    part: the cast would silently drop it) and other objects are refused; a ragged nested sequence is a
    ValueError."""
    if x is None or isinstance(x, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {type(x).__name__} {x!r}"[:200])
    try:
        raw = np.asarray(x)
    except ValueError as exc:
        raise ValueError(f"{name} must be a rectangular array of real numbers, got a ragged nested sequence") from exc
    except TypeError as exc:
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {type(x).__name__}") from exc
    if raw.dtype.kind not in "iuf":
        kind = {
            "b": "booleans",
            "c": "complex numbers",
            "U": "strings",
            "S": "bytes",
            "O": "objects",
            "M": "datetimes",
            "m": "timedeltas",
            "V": "records",
        }.get(raw.dtype.kind, str(raw.dtype))
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {kind}")
    return raw.astype(np.float64, copy=False)


def check_finite(x, name: str) -> np.ndarray:
    """Return ``x`` as float64; raise ValueError if any entry is NaN or infinite."""
    arr = as_float_array(x, name)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def check_nonnegative(x, name: str) -> np.ndarray:
    """Return ``x`` as float64; raise ValueError unless every entry is finite and >= 0 (variances, times)."""
    arr = check_finite(x, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative, got minimum {arr.min():g}")
    return arr


def check_positive(x, name: str) -> np.ndarray:
    """Return ``x`` as float64; raise ValueError unless every entry is finite and > 0."""
    arr = check_finite(x, name)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be positive, got minimum {arr.min():g}")
    return arr


def check_positive_scalar(x, name: str) -> float:
    """Return ``x`` as a float; raise ValueError unless it is a finite scalar > 0 (e.g. the learning rate eta)."""
    arr = check_positive(x, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got an array of shape {arr.shape}")
    return float(arr)


def check_in_range(x, name: str, low: float, high: float) -> np.ndarray:
    """Return ``x`` as float64; raise ValueError unless every entry is finite and in the closed interval
    [``low``, ``high``] (e.g. the flow-matching time t in [0, 1])."""
    arr = check_finite(x, name)
    if np.any(arr < low) or np.any(arr > high):
        worst = arr.min() if np.any(arr < low) else arr.max()
        raise ValueError(
            f"{name} must be in [{low:g}, {high:g}], got {'minimum' if worst < low else 'maximum'} {worst:g}"
        )
    return arr


def check_sigma_range(sigma_min, sigma_max) -> tuple[float, float]:
    """Check the sampling noise range: 0 < sigma_min < sigma_max, both finite scalars."""
    smin = check_positive_scalar(sigma_min, "sigma_min")
    smax = check_positive_scalar(sigma_max, "sigma_max")
    if not smin < smax:
        raise ValueError(f"sigma_min must be smaller than sigma_max, got sigma_min={smin:g} >= sigma_max={smax:g}")
    return smin, smax


def check_times(tau, name: str = "tau") -> np.ndarray:
    """Training times: finite and non-negative."""
    return check_nonnegative(tau, name)


def check_covariance(cov, name: str = "cov", *, rtol: float = 1e-10) -> np.ndarray:
    """Return a symmetric positive semi-definite (d, d) float64 matrix.

    Raises ValueError if ``cov`` is not square, not finite, not symmetric (relative tolerance ``rtol``) or has an
    eigenvalue below ``-rtol * max|eigenvalue|`` (not PSD). The returned matrix is exactly symmetrised.
    """
    c = check_finite(cov, name)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) matrix, got shape {c.shape}")
    scale = max(np.abs(c).max(), np.finfo(float).tiny)
    if np.abs(c - c.T).max() > rtol * scale:
        raise ValueError(f"{name} must be symmetric")
    c = 0.5 * (c + c.T)
    ev = np.linalg.eigvalsh(c)
    if ev.size and ev[0] < -rtol * max(abs(ev[-1]), abs(ev[0]), 1e-300) * c.shape[0]:
        raise ValueError(f"{name} must be positive semi-definite, smallest eigenvalue {ev[0]:g}")
    return c


def check_mean(mean, dim: int, name: str = "mean") -> np.ndarray:
    """Return a finite mean vector of length ``dim``; raise ValueError on wrong shape."""
    m = check_finite(mean, name)
    if m.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), got {m.shape}")
    return m


def check_choice(value, name: str, options) -> str:
    """Raise ValueError unless ``value`` is one of ``options`` (strings)."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return value


def check_broadcastable(**arrays) -> tuple[int, ...]:
    """Return the broadcast shape of the named arrays; raise ValueError naming them if they do not broadcast."""
    try:
        return np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError as exc:
        desc = ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"shapes do not broadcast: {desc}") from exc


def check_same_shape(a, b, name_a: str, name_b: str) -> None:
    """Raise ValueError unless ``a`` and ``b`` have identical shapes."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {np.shape(a)} and {np.shape(b)}")


def check_integer(x, name: str, *, min_value: int = 1) -> int:
    """Return ``x`` as an int; raise TypeError unless it is an integer (not a bool, not a float such as 2.7 or 3.0)
    and ValueError unless it is >= ``min_value`` (grid sizes, panel counts, patch sizes)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}"[:200])
    if x < min_value:
        raise ValueError(f"{name} must be an integer >= {min_value}, got {x}")
    return int(x)


def check_real_scalar(x, name: str) -> float:
    """Return ``x`` as a float; raise TypeError/ValueError unless it is one finite real number."""
    arr = check_finite(x, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got an array of shape {arr.shape}")
    return float(arr)


def _extreme_arguments(bound) -> list[str]:
    """Names (with values) of numeric arguments with magnitude above 1e100 or below 1e-100 (but not 0)."""
    out = []
    for k, v in bound.arguments.items():
        if isinstance(v, (bool, str, bytes)) or callable(v):
            continue
        try:
            a = np.abs(np.asarray(v, dtype=np.float64))
        except (TypeError, ValueError):
            continue
        if a.size and np.all(np.isfinite(a)) and (np.any(a > 1e100) or np.any((a > 0) & (a < 1e-100))):
            out.append(f"{k}={(a.max() if np.any(a > 1e100) else a[a > 0].min()):g}")
    return out


def guard_float_range(fn, *, nan_ok: bool = False):
    """Wrap a public theory function so that a value outside the float64 range never passes silently: a float
    result (or a plain tuple of them) holding NaN or ±inf is refused with a one-line ValueError naming the extreme
    arguments. Inside, floating-point exceptions are silenced (an overflowing exponent whose e^{-inf} = 0 is the
    exact limit is not an error; an overflow that reaches the result is). NamedTuple results may hold NaN by
    contract (e.g. "no crossing" in EmergenceResult) and are passed through, as is any result with ``nan_ok``
    (emergence times: NaN marks a mode that never crosses), which still refuses ±inf."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            try:
                res = fn(*args, **kwargs)
            except (OverflowError, ZeroDivisionError) as err:  # Python-float arithmetic
                raise _range_error(fn, sig, args, kwargs, err) from None
        parts = res if (isinstance(res, tuple) and not hasattr(res, "_fields")) else (res,)
        for part in parts:
            if isinstance(part, (np.ndarray, float, np.floating)):
                a = np.asarray(part)
                if a.dtype.kind == "f" and not np.all(np.isfinite(a) | (nan_ok & np.isnan(a))):
                    raise _range_error(fn, sig, args, kwargs, None)
        return res

    return wrapper


def _range_error(fn, sig, args, kwargs, err) -> ValueError:
    try:
        bound = sig.bind(*args, **kwargs)
        names = _extreme_arguments(bound) or [k for k in bound.arguments]
    except TypeError:
        names = []
    what = f" ({type(err).__name__}: {err})" if err is not None else ""
    return ValueError(
        f"{fn.__name__}: the result leaves the float64 range at these inputs{what}; extreme "
        f"argument(s): {', '.join(names) or 'none'}"
    )
