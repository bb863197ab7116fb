"""Emergence (first-passage) times and power-law fits of the inverse-variance law (Wang & Pehlevan 2025, §4, App. I).

τ*_k is the first training time at which the generated variance of mode k crosses a threshold between its initial
value λ̂_k(0) and its target λ_k: the geometric mean sqrt(λ̂(0) λ) (main text) or the harmonic mean
2/(1/λ̂(0) + 1/λ) (patch analyses). Fits regress log10 τ* on log10 λ; the slope is -α in τ* ∝ λ^{-α}.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .validation import (
    as_float_array,
    check_choice,
    check_integer,
    check_positive,
    check_real_scalar,
    check_times,
)

__all__ = ["EmergenceResult", "PowerLawFit", "emergence_threshold", "emergence_time", "fit_power_law", "gray_zone_mask"]


class EmergenceResult(NamedTuple):
    """Result of :func:`emergence_time`. ``tau_star`` (n_modes,) with NaN where a mode never crosses;
    ``direction`` (n_modes,) of "increasing"/"decreasing"; ``threshold`` (n_modes,); ``initial`` (n_modes,)."""

    tau_star: np.ndarray
    direction: np.ndarray
    threshold: np.ndarray
    initial: np.ndarray


class PowerLawFit(NamedTuple):
    """Result of :func:`fit_power_law`. With regress="tau_on_lam" (default): log10 τ* = intercept + slope log10 λ
    (slope = -α); with regress="lam_on_tau": log10 λ = intercept + slope log10 τ* (the paper's theory figures)."""

    slope: float
    intercept: float
    r2: float
    n: int
    ci: tuple  # bootstrap confidence interval of the slope
    mask: np.ndarray  # modes used in the fit
    regress: str = "tau_on_lam"

    @property
    def alpha(self) -> float:
        """Exponent α in τ* ∝ λ^{-α}: -slope (tau_on_lam) or -1/slope (lam_on_tau)."""
        return -self.slope if self.regress == "tau_on_lam" else -1.0 / self.slope


def emergence_threshold(initial, target, criterion="geometric"):
    """Threshold between ``initial`` and ``target`` (> 0, broadcast): "geometric" sqrt(a b) or "harmonic" 2ab/(a+b)."""
    check_choice(criterion, "criterion", {"geometric", "harmonic"})
    a = check_positive(initial, "initial")
    b = check_positive(target, "targets")
    return np.sqrt(a * b) if criterion == "geometric" else 2.0 * a * b / (a + b)


def emergence_time(times, trajectories, targets, *, initial=None, criterion="geometric", smooth=None):
    """First-passage time of each mode's trajectory through the threshold between its initial value and target.

    Parameters
    ----------
    times : (T,) increasing, >= 0 (training times, e.g. ητ).
    trajectories : (n_modes, T) or (T,) positive values (generated variances).
    targets : (n_modes,) or scalar, > 0 (the data variances λ_k).
    initial : optional (n_modes,) or scalar initial values; default: the first recorded value of each (unsmoothed)
        trajectory, as in the authors' code.
    criterion : "geometric" (default) or "harmonic" mean of initial and target.
    smooth : None or the standard deviation (in samples) of a Gaussian filter applied along time before
        searching (scipy.ndimage.gaussian_filter1d, mode "nearest"); the authors use 1 (images) or 2 (theory).

    A mode whose (smoothed) start lies below the threshold is "increasing" and crosses at the first sample >= the
    threshold; otherwise it is "decreasing" and crosses at the first sample <= it. The crossing time between the
    bracketing samples is interpolated linearly in (ln τ, ln value) (linear in τ if the left time is 0). Modes
    that never cross get NaN.

    Returns an :class:`EmergenceResult` (tau_star, direction, threshold, initial); ``emergence_time(...).tau_star``
    is the simple use. Raises ValueError for bad shapes, non-positive values, unknown criterion.
    """
    check_choice(criterion, "criterion", {"geometric", "harmonic"})
    t, y, single = _times_and_trajectories(times, trajectories)
    n = y.shape[0]
    tgt = _per_mode(targets, "targets", n)
    init = _per_mode(y[:, 0] if initial is None else initial, "initial", n)
    if smooth is not None:
        s = check_positive(smooth, "smooth")
        if s.ndim != 0:
            raise ValueError("smooth must be a positive scalar or None")
        y = gaussian_filter1d(y, float(s), axis=1, mode="nearest")
    thr = emergence_threshold(init, tgt, criterion)
    increasing = y[:, 0] < thr
    tau_star = _crossing_times(t, y, thr, increasing)
    direction = np.where(increasing, "increasing", "decreasing")
    if single:
        return EmergenceResult(tau_star[0], direction[0], thr[0], init[0])
    return EmergenceResult(tau_star, direction, thr, init)


def _times_and_trajectories(times, trajectories):
    """Validate :func:`emergence_time`'s ``times`` (T,) and ``trajectories`` ((n, T) or (T,)): returns the times,
    the trajectories as (n, T) and whether a single (T,) trajectory was given."""
    t = check_times(times, "times")
    if t.ndim != 1 or t.size < 2 or np.any(np.diff(t) <= 0):
        raise ValueError("times must be a 1-D strictly increasing array with at least 2 entries")
    y = check_positive(trajectories, "trajectories")
    single = y.ndim == 1
    y = np.atleast_2d(y)
    if y.ndim != 2 or y.shape[1] != t.size:
        raise ValueError(f"trajectories must have shape (n_modes, {t.size}), got {np.shape(trajectories)}")
    return t, y, single


def _per_mode(value, name, n):
    """A positive scalar or (n,) array ``value`` as a float array of shape (n,); ValueError naming ``name``."""
    v = check_positive(value, name)
    if v.ndim > 1 or (v.ndim == 1 and v.size != n):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got {v.shape}")
    return np.broadcast_to(v, (n,)).astype(float)


def _first_sample_past(values, threshold, increasing):
    """Index of the first sample of each row of ``values`` (n, T) at or past ``threshold`` (n,), approached from
    below where ``increasing`` (n,) and from above elsewhere; -1 for a row that never gets there. The search step of
    every first-passage time (:func:`emergence_time`, ``one_layer_emergence_time``)."""
    past = np.where(increasing[:, None], values >= threshold[:, None], values <= threshold[:, None])
    return np.where(past.any(axis=1), np.argmax(past, axis=1), -1)


def _crossing_times(t, y, thr, increasing):
    """First-passage times of the rows of ``y`` (n, T) through ``thr`` (n,): ``t[0]`` when a row starts past it,
    NaN when it never gets there, else interpolated between the bracketing samples (:func:`_log_interpolate`)."""
    j = _first_sample_past(y, thr, increasing)
    tau_star = np.full(y.shape[0], np.nan)
    tau_star[j == 0] = t[0]
    k = np.flatnonzero(j > 0)
    if k.size:
        j1 = j[k]
        tau_star[k] = _log_interpolate(t[j1 - 1], t[j1], y[k, j1 - 1], y[k, j1], thr[k])
    return tau_star


def _log_interpolate(t0, t1, y0, y1, thr):
    """The time at which the segment from (t0, y0) to (t1, y1) reaches ``thr``, linear in (ln t, ln y) (linear in
    t where t0 = 0); a flat segment (y0 = y1) gives t1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.log(thr / y0) / np.log(y1 / y0)
    frac = np.where(np.isfinite(frac), np.clip(frac, 0.0, 1.0), 1.0)
    logt = t0 > 0
    return np.where(
        logt,
        np.exp(np.log(np.where(logt, t0, 1.0)) + frac * np.log(np.where(logt, t1 / np.where(logt, t0, 1.0), 1.0))),
        t0 + frac * (t1 - t0),
    )


def gray_zone_mask(initial, target, *, low=0.5, high=2.0):
    """True for modes in the gray zone low <= initial/target <= high (excluded from fits; App. I)."""
    a = check_positive(initial, "initial")
    b = check_positive(target, "target")
    low, high = check_real_scalar(low, "low"), check_real_scalar(high, "high")
    if not 0 < low <= high:
        raise ValueError(f"low and high must satisfy 0 < low <= high, got low={low:g}, high={high:g}")
    with np.errstate(over="ignore", under="ignore"):  # a ratio beyond the float range is far outside the zone
        r = a / b
    return (r >= low) & (r <= high)


def fit_power_law(
    lam,
    tau_star,
    *,
    exclude=None,
    initial=None,
    target=None,
    trajectories=None,
    smooth=None,
    n_boot=1000,
    seed=0,
    confidence=0.95,
    regress="tau_on_lam",
):
    """Least-squares fit of log10 τ* = intercept + slope · log10 λ (slope = -α of the inverse-variance law).

    ``lam`` (n,) > 0, ``tau_star`` (n,) (NaN and non-positive entries are dropped). ``exclude``:
      * None: keep every finite mode;
      * boolean mask (n,): True = exclude;
      * "gray-zone": per-mode rule, drop modes with 0.5 <= initial/target <= 2 (needs ``initial`` and ``target``,
        e.g. the exact λ̂_k(0) and λ_k);
      * "authors": the variant in the authors' code (theory.md §7.1): the gray-zone rule applied to the *first
        recorded value of the smoothed trajectory* (needs ``trajectories`` (n, T), ``target`` and optionally
        ``smooth``, the Gaussian-filter width in samples; default 2 as for their theory curves).
    ``regress``: "tau_on_lam" (default; log10 τ* on log10 λ, slope = -α, as the authors' image analyses) or
    "lam_on_tau" (log10 λ on log10 τ*, as the paper's theory Figs. 6, 8; the two slopes multiply to R²).
    Returns a :class:`PowerLawFit` (slope, intercept, r2, n, ci, mask, regress) where ``ci`` is the percentile
    bootstrap ``confidence`` interval of the slope from ``n_boot`` resamples of the modes (seeded with ``seed``).
    Raises ValueError when fewer than 3 modes remain, for unknown ``exclude`` or missing companions.
    """
    lam = check_positive(lam, "lam")
    ts = as_float_array(tau_star, "tau_star")
    n_boot = check_integer(n_boot, "n_boot")
    if np.any(np.isinf(ts)):
        raise ValueError("tau_star must not contain inf (use NaN for modes that never cross)")
    if lam.ndim != 1 or ts.shape != lam.shape:
        raise ValueError(f"lam and tau_star must be 1-D arrays of equal length, got {lam.shape} and {ts.shape}")
    keep = np.isfinite(ts) & (ts > 0) & ~_excluded_modes(lam, exclude, initial, target, trajectories, smooth)
    n = int(keep.sum())
    if n < 3:
        raise ValueError(f"fit_power_law needs at least 3 usable modes, got {n}")
    check_choice(regress, "regress", {"tau_on_lam", "lam_on_tau"})
    x, yv = np.log10(lam[keep]), np.log10(ts[keep])
    if regress == "lam_on_tau":
        x, yv = yv, x
    slope, intercept = np.polyfit(x, yv, 1)
    resid = yv - (intercept + slope * x)
    ss_tot = np.sum((yv - yv.mean()) ** 2)
    r2 = 1.0 - np.sum(resid**2) / ss_tot if ss_tot > 0 else 1.0
    ci = _bootstrap_slope_interval(x, yv, n_boot, seed, confidence)
    return PowerLawFit(float(slope), float(intercept), float(r2), n, ci, keep, regress)


def _excluded_modes(lam, exclude, initial, target, trajectories, smooth):
    """The boolean mask (n,) of modes that :func:`fit_power_law`'s ``exclude`` rule leaves out (see there).
    Raises ValueError for an unknown rule, a bad mask or a missing companion argument."""
    if exclude is None:
        return np.zeros(lam.shape, dtype=bool)
    if not isinstance(exclude, str):
        m = np.asarray(exclude)
        if m.dtype != bool or m.shape != lam.shape:
            raise ValueError(f"exclude must be None, 'gray-zone', 'authors' or a boolean mask of shape {lam.shape}")
        return m
    check_choice(exclude, "exclude", {"gray-zone", "authors"})
    if target is None:
        raise ValueError(f"exclude={exclude!r} needs target (the data variances)")
    if exclude == "gray-zone":
        if initial is None:
            raise ValueError("exclude='gray-zone' needs initial (the initial generated variances)")
        return gray_zone_mask(np.broadcast_to(initial, lam.shape), np.broadcast_to(target, lam.shape))
    if trajectories is None:
        raise ValueError("exclude='authors' needs trajectories (n_modes, n_times)")
    y = check_positive(trajectories, "trajectories")
    if y.ndim != 2 or y.shape[0] != lam.size:
        raise ValueError(f"trajectories must have shape ({lam.size}, n_times), got {y.shape}")
    sm = 2.0 if smooth is None else float(check_positive(smooth, "smooth"))
    start = gaussian_filter1d(y, sm, axis=1, mode="nearest")[:, 0]
    return gray_zone_mask(start, np.broadcast_to(target, lam.shape))


def _bootstrap_slope_interval(x, y, n_boot, seed, confidence):
    """Percentile bootstrap ``confidence`` interval of the least-squares slope of y on x from ``n_boot`` resamples
    of the points (generator seeded with ``seed``); (nan, nan) when no resample has two distinct x."""
    n = x.size
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(int(n_boot), n))
    xb, yb = x[idx], y[idx]
    xm, ym = xb.mean(axis=1, keepdims=True), yb.mean(axis=1, keepdims=True)
    sxx = np.sum((xb - xm) ** 2, axis=1)
    ok = sxx > 0
    slopes = np.sum((xb - xm) * (yb - ym), axis=1)[ok] / sxx[ok]
    alpha_tail = 50.0 * (1.0 - confidence)
    ci = tuple(np.percentile(slopes, [alpha_tail, 100.0 - alpha_tail])) if slopes.size else (np.nan, np.nan)
    return float(ci[0]), float(ci[1])
