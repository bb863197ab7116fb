"""Branch-wise power-law fits of the inverse-variance law (Wang & Pehlevan 2025, Figs. 5-6, App. I).

Modes whose generated variance grows towards its target and modes whose variance shrinks towards it obey laws with
different exponents, so the paper fits τ*_k ∝ λ_k^{-α} separately on each branch. :func:`fit_branches` is that one
loop, used by chapters 5, 6, 7 and 8, the explorer and the experiment analysis; :func:`trajectory_exponents` goes
from recorded trajectories to those fits in one call (chapters 7 and 8).
"""

from __future__ import annotations

import numpy as np

from .emergence import emergence_time, fit_power_law
from .validation import as_float_array, check_positive

__all__ = ["BRANCHES", "fit_branches", "fit_to_dict", "trajectory_exponents"]

BRANCHES = ("increasing", "decreasing")


def fit_to_dict(fit) -> dict:
    """A :class:`~spectral_bias.theory.PowerLawFit` as a plain (JSON-ready) dict with keys alpha, slope, intercept,
    r2, n, ci_slope (bootstrap interval of the slope) and ci_alpha (the same interval mapped to α: α = -slope for
    the default regression of log10 τ* on log10 λ, α = -1/slope for regress="lam_on_tau").
    Raises TypeError if ``fit`` is not a PowerLawFit."""
    from .emergence import PowerLawFit

    if not isinstance(fit, PowerLawFit):
        raise TypeError(f"fit must be a PowerLawFit (from fit_power_law), got {type(fit).__name__}")
    lo, hi = float(fit.ci[0]), float(fit.ci[1])
    if getattr(fit, "regress", "tau_on_lam") == "tau_on_lam":
        ci_alpha = [-hi, -lo]
    else:  # α = -1/slope is increasing in the slope on either side of 0
        ci_alpha = sorted([-1.0 / lo, -1.0 / hi])
    return dict(
        alpha=float(fit.alpha),
        slope=float(fit.slope),
        intercept=float(fit.intercept),
        r2=float(fit.r2),
        n=int(fit.n),
        ci_slope=[lo, hi],
        ci_alpha=ci_alpha,
    )


def fit_branches(lam, tau_star, direction, *, exclude=None, branches=BRANCHES, min_modes=3, **fit_kw) -> dict:
    """Fit log10 τ* = intercept + slope log10 λ (or, with regress="lam_on_tau", λ on τ*) separately on each
    branch of modes (eq. of the inverse-variance law,
    τ* ∝ λ^{-α}; the paper's Figs. 5-6 and App. I).

    ``lam`` (n,) > 0 data variances; ``tau_star`` (n,) emergence times (NaN where a mode never crosses);
    ``direction`` (n,) the branch label of each mode, e.g. ``EmergenceResult.direction`` ("increasing" or
    "decreasing"). ``exclude``: None, or a boolean mask (n,) of modes to leave out of every branch (e.g. the gray
    zone), or the string rules "gray-zone"/"authors" of :func:`fit_power_law` (with their companions ``initial``,
    ``target``, ``trajectories`` passed in ``fit_kw``). Further keywords (``n_boot``, ``seed``, ``confidence``)
    and ``regress`` go to :func:`fit_power_law`.

    Returns ``{branch: dict or None}`` for each name in ``branches``: the dict of :func:`fit_to_dict` (alpha, slope,
    intercept, r2, n, ci_slope, ci_alpha), or None when fewer than ``min_modes`` (>= 3) usable modes are left in
    that branch. Raises ValueError for mismatched shapes or other bad input (never hidden as None).
    """
    lam, ts, direction, mask = _branch_fit_inputs(lam, tau_star, direction, exclude, branches, min_modes)
    rule = None if mask is not None else exclude  # a string rule goes on to fit_power_law
    return {branch: _fit_one_branch(lam, ts, direction != branch, mask, rule, min_modes, fit_kw) for branch in branches}


def _branch_fit_inputs(lam, tau_star, direction, exclude, branches, min_modes):
    """Validate the arguments of :func:`fit_branches`: returns (lam, tau_star, direction) as arrays and the boolean
    exclusion mask (None unless ``exclude`` is a mask). Raises ValueError/TypeError naming the argument."""
    lam = check_positive(lam, "lam")
    ts = as_float_array(tau_star, "tau_star")  # NaN allowed: modes that never cross
    if np.any(np.isinf(ts)):
        raise ValueError("tau_star must not be infinite (use NaN for a mode that never crosses)")
    try:
        direction = np.asarray(direction)
    except ValueError as exc:
        raise ValueError("direction must be a 1-D array of branch names, got a ragged nested sequence") from exc
    if direction.dtype.kind not in "UO":
        raise TypeError(f"direction must hold branch names such as 'increasing', got dtype {direction.dtype}")
    if lam.ndim != 1 or ts.shape != lam.shape or direction.shape != lam.shape:
        raise ValueError(
            f"lam, tau_star and direction must be 1-D arrays of equal length, got {lam.shape}, "
            f"{ts.shape} and {direction.shape}"
        )
    if isinstance(min_modes, bool) or not isinstance(min_modes, (int, np.integer)) or min_modes < 3:
        raise ValueError(f"min_modes must be an integer >= 3, got {min_modes!r}")
    if isinstance(branches, str):
        raise TypeError(f"branches must be a sequence of branch names, got the string {branches!r}")
    mask = None
    if exclude is not None and not isinstance(exclude, str):
        mask = np.asarray(exclude)
        if mask.dtype != bool or mask.shape != lam.shape:
            raise ValueError(f"exclude must be None, 'gray-zone', 'authors' or a boolean mask of shape {lam.shape}")
    return lam, ts, direction, mask


def _fit_one_branch(lam, ts, other_branch, mask, rule, min_modes, fit_kw):
    """The fit of one branch: the modes of ``other_branch`` (and those in ``mask``) are set to NaN, the rest go to
    :func:`fit_power_law` with the string ``rule`` (or None). Returns the :func:`fit_to_dict` dict, or None when
    fewer than ``min_modes`` usable modes are left (before or after the rule)."""
    drop = other_branch if mask is None else other_branch | mask
    usable = ~drop & np.isfinite(ts) & (ts > 0)
    if usable.sum() < min_modes:
        return None
    try:
        fit = fit_power_law(lam, np.where(drop, np.nan, ts), exclude=rule, **fit_kw)
    except ValueError as err:
        if "at least 3 usable modes" not in str(err):
            raise
        return None  # a string rule (gray zone) left fewer than 3 modes
    return fit_to_dict(fit) if fit.n >= min_modes else None


def trajectory_exponents(
    times, trajectories, lam, *, initial=None, criterion="geometric", exclude="gray-zone", smooth=None, **fit_kw
) -> dict:
    """Exponents α of τ*_k ∝ λ_k^{-α} on each branch, straight from recorded trajectories (the inverse-variance law,
    Wang & Pehlevan 2025 §4, Figs. 5-6, App. I; chapters 7 and 8).

    The two steps the paper takes: :func:`emergence_time` of each mode's trajectory through the ``criterion``
    threshold between its start and λ_k, then :func:`fit_branches` on the "increasing" and "decreasing" modes with
    ``exclude`` applied. ``times`` (T,), ``trajectories`` (n, T) > 0 (e.g. generated variances), ``lam`` (n,) > 0
    the data variances (the targets). ``initial``: the starting values (scalar or (n,)); default the first column of
    ``trajectories``. ``exclude``: "gray-zone" (default: drop modes with 0.5 <= initial/λ <= 2), "authors" (the
    same rule on the start of the smoothed trajectory), None, or a boolean mask (n,). ``smooth``: the Gaussian
    filter width of :func:`emergence_time` (and of the "authors" rule). Further keywords (``n_boot``, ``seed``,
    ``confidence``, ``regress``, ``branches``, ``min_modes``) go to :func:`fit_branches`.

    Returns ``{branch: dict or None}`` as :func:`fit_branches`. Raises ValueError/TypeError naming the argument.
    """
    lam = check_positive(lam, "lam")
    if lam.ndim != 1:
        raise ValueError(f"lam must be a 1-D array of data variances, got shape {lam.shape}")
    y = check_positive(trajectories, "trajectories")
    if y.ndim != 2:
        raise ValueError(f"trajectories must have shape ({lam.size}, n_times), got {y.shape}")
    res = emergence_time(times, y, lam, initial=initial, criterion=criterion, smooth=smooth)
    if isinstance(exclude, str) and exclude == "gray-zone":
        fit_kw.update(initial=res.initial, target=lam)
    elif isinstance(exclude, str) and exclude == "authors":
        fit_kw.update(trajectories=y, target=lam, smooth=smooth)
    return fit_branches(lam, res.tau_star, res.direction, exclude=exclude, **fit_kw)
