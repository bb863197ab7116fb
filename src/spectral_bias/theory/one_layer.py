"""One-layer linear denoiser D(x; σ) = W_σ x + b_σ under full-batch gradient flow (Wang & Pehlevan 2025, §4).

Per eigenmode k with aligned initialisation W_σ(0) = Σ_k Q_k u_k u_kᵀ the weight is eq. (7) and the generated
variance after training time τ is Prop. 4.2. All functions broadcast ``lam`` (modes) against ``tau`` (times),
e.g. lam of shape (d, 1) and tau of shape (T,) give (d, T).
"""

from __future__ import annotations

import numpy as np

from ._expint import _log0, ein, ein_from_log
from .constants import SIGMA_MAX, SIGMA_MIN
from .emergence import EmergenceResult, _first_sample_past, emergence_threshold
from .optimal import optimal_weight
from .validation import (
    check_broadcastable,
    check_finite,
    check_integer,
    check_nonnegative,
    check_positive,
    check_positive_scalar,
    check_sigma_range,
    check_times,
)

__all__ = [
    "generated_variance_at_init",
    "generated_variance_converged",
    "one_layer_emergence_time",
    "one_layer_generated_variance",
    "one_layer_log_generated_variance",
    "one_layer_rate",
    "one_layer_weight",
]


def one_layer_rate(lam, sigma, *, eta=1.0):
    """Convergence rate 2η(σ² + λ_k) of mode k's weight at noise level σ (eq. 7). Broadcasts."""
    lam = check_nonnegative(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    return 2.0 * check_positive_scalar(eta, "eta") * (sigma**2 + lam)


def one_layer_weight(lam, sigma, tau, *, eta=1.0, q=0.0):
    """Per-mode weight w_k(σ, τ) = w* + (Q - w*) exp(-2ητ(σ² + λ)), w* = λ/(λ + σ²) (eq. 7 of Wang & Pehlevan 2025).

    ``lam`` (>= 0), ``sigma`` (> 0), ``tau`` (>= 0) and ``q`` (finite, initial weight Q_k) broadcast together;
    ``eta`` > 0 is a scalar. Raises ValueError naming the offending argument.
    """
    lam = check_nonnegative(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    tau = check_times(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    check_broadcastable(lam=lam, sigma=sigma, tau=tau, q=q)
    wstar = optimal_weight(lam, sigma)
    with np.errstate(over="ignore", under="ignore"):  # an overflowing exponent gives the exact limit e^{-inf} = 0
        return wstar + (q - wstar) * np.exp(-2.0 * eta * tau * (sigma**2 + lam))


def one_layer_log_generated_variance(lam, tau, *, eta=1.0, q=0.0, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX):
    """ln λ̂_k(τ), the log generated variance of Prop. 4.2 (Wang & Pehlevan 2025), evaluated in log space.

    With a = 2ητ, s0 = σ_min, sT = σ_max and Ein(x) = ∫_0^x (1 - e^{-t})/t dt (so that Ei(-x) = γ + ln x - Ein(x)),
    the exponential integrals of Prop. 4.2 combine into

        ln λ̂ = ln sT² - (1 - Q) e^{-aλ} [ln(sT²/s0²) + Ein(a s0²) - Ein(a sT²)]
                       + Ein(a(s0² + λ)) - Ein(a(sT² + λ)),

    which is finite for every a >= 0 (exact at τ = 0: ln sT² - (1-Q) ln(sT²/s0²)) and never overflows.
    ``lam`` (>= 0) broadcasts with ``tau`` (>= 0) and ``q`` (finite); ``eta`` > 0 scalar; 0 < sigma_min < sigma_max.
    Raises ValueError naming the offending argument.
    """
    lam = check_nonnegative(lam, "lam")
    tau = check_times(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    s0, sT = check_sigma_range(sigma_min, sigma_max)
    check_broadcastable(lam=lam, tau=tau, q=q)
    with np.errstate(over="ignore", under="ignore"):
        a = 2.0 * eta * tau
    if not np.all(np.isfinite(a)):
        raise ValueError(f"eta * tau must be finite, got eta={eta:g} and tau up to {np.max(tau):g}")
    shape = np.broadcast_shapes(lam.shape, tau.shape, q.shape)
    if np.prod(shape, dtype=int) == 0:
        return np.empty(shape)
    out = _log_generated_variance_table(lam, a, q, s0, sT, shape)
    return _redo_overflowing_in_log_space(out, lam, a, q, s0, sT)


def _log_generated_variance_table(lam, a, q, s0, sT, shape):
    """Prop. 4.2's ln λ̂ (see :func:`one_layer_log_generated_variance`, a = 2ητ) on the broadcast ``shape``, the fast
    path: products a·(λ + σ²) formed directly (inf/NaN where they overflow, for
    :func:`_redo_overflowing_in_log_space`), evaluated in cache-sized row blocks (~2x faster than whole-array
    temporaries)."""
    with np.errstate(over="ignore", under="ignore"):
        s02, sT2 = s0 * s0, sT * sT
    log_ratio = 2.0 * (np.log(sT) - np.log(s0))  # ln(sT²/s0²) without over/underflow of the squares
    out = np.empty(shape)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        bracket = log_ratio + ein(a * s02) - ein(a * sT2)  # depends on τ only: evaluated on tau's own shape
        ncol = shape[-1] if shape else 1
        views = [np.broadcast_to(v, shape).reshape(-1, ncol) for v in (lam, a, q, bracket)]
        o2 = out.reshape(-1, ncol)
        rows = max(1, 65536 // ncol)
        for r0 in range(0, o2.shape[0], rows):
            lam_b, a_b, q_b, br_b = (v[r0 : r0 + rows] for v in views)
            res = ein(a_b * (lam_b + s02))
            res -= (1.0 - q_b) * np.exp(-a_b * lam_b) * br_b
            res -= ein(a_b * (lam_b + sT2))
            res += 2.0 * np.log(sT)
            o2[r0 : r0 + rows] = res
    return out


def _redo_overflowing_in_log_space(out, lam, a, q, s0, sT):
    """Recompute, with :func:`_log_space`, the entries of ``out`` (from :func:`_log_generated_variance_table`)
    whose products a·(λ + σ²) overflow or whose σ_min² underflows; a no-op (no cost) unless some can. Raises
    ValueError naming q if a value is still beyond the float64 range."""
    shape = out.shape
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        s02, sT2 = s0 * s0, sT * sT
        extreme = s02 < 1e-280 or not np.max(a, initial=0.0) * (np.max(lam, initial=0.0) + sT2) <= 1e280
        if not extreme:
            return out
        redo = (
            ~np.isfinite(out)
            | (s02 < 1e-280)
            | (np.broadcast_to(a, shape) * (np.broadcast_to(lam, shape) + sT2) > 1e280)
        )
    if np.any(redo):
        out[redo] = _log_space(*(np.broadcast_to(v, shape)[redo] for v in (lam, a, q)), np.log(s0), np.log(sT))
    if not np.all(np.isfinite(out)):
        raise ValueError(
            "q is too large in magnitude: ln of the generated variance exceeds the float64 range "
            f"(q up to {np.max(np.abs(q)):g})"
        )
    return out


def _log_space(lam, a, q, ls0, lsT):
    """Prop. 4.2's ln λ̂ with every product formed in log space (ln a + ln c): finite for λ in [0, 1e308],
    a = 2ητ in [0, 1e308], σ down to 1e-300. Slower than the table path; used only where that one overflows."""
    L0, LT, ll, la = 2.0 * ls0, 2.0 * lsT, _log0(lam), _log0(a)
    with np.errstate(over="ignore", under="ignore"):
        decay = np.exp(-np.exp(np.minimum(la + ll, 700.0)))  # e^{-aλ}, exactly 0 once aλ > 1e304
    bracket = (LT - L0) + ein_from_log(la + L0) - ein_from_log(la + LT)
    return (
        ein_from_log(la + np.logaddexp(L0, ll))
        - (1.0 - q) * decay * bracket
        - ein_from_log(la + np.logaddexp(LT, ll))
        + LT
    )


def one_layer_generated_variance(lam, tau, *, eta=1.0, q=0.0, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX):
    """Generated variance λ̂_k(τ) of mode k after training time τ (Prop. 4.2 of Wang & Pehlevan 2025).

    Equals σ_max² Φ_k²(σ_min, τ)/Φ_k²(σ_max, τ); computed as exp of :func:`one_layer_log_generated_variance`
    (finite and accurate for λ in [0, 1e300], ητ in [0, 1e300], σ_min down to 1e-300 and σ_max up to 1e150; no
    NaN, inf or overflow warnings; a result beyond the float64 range raises ValueError).
    Shapes: ``lam`` (e.g. (d, 1)) broadcasts with ``tau`` (e.g. (T,)) -> (d, T). Limits:
    λ̂(0) = σ_max² (σ_min/σ_max)^{2(1-Q)}, λ̂(∞) = σ_max² (λ + σ_min²)/(λ + σ_max²).
    """
    lv = one_layer_log_generated_variance(lam, tau, eta=eta, q=q, sigma_min=sigma_min, sigma_max=sigma_max)
    _check_exp_range(lv)
    return np.exp(lv)


def _check_exp_range(lv) -> None:
    """Raise ValueError if exp(lv) would overflow float64 (a generated variance above 1.8e308)."""
    if np.size(lv) and np.max(lv) > 709.78:
        raise ValueError(
            f"the generated variance exceeds the float64 range (ln = {np.max(lv):.6g} > 709.78) at "
            f"these sigma_max, q; use the log version (one_layer_log_generated_variance)"
        )


def generated_variance_at_init(q=0.0, *, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX):
    """λ̂(τ=0) = σ_max² (σ_min/σ_max)^{2(1-Q)}: a constant weight Q contracts every mode alike (Prop. 4.2, τ→0)."""
    q = check_finite(q, "q")
    s0, sT = check_sigma_range(sigma_min, sigma_max)
    return sT**2 * (s0 / sT) ** (2.0 * (1.0 - q))


def generated_variance_converged(lam, *, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX):
    """λ̂(τ→∞) = σ_max² (λ + σ_min²)/(λ + σ_max²), the optimal denoiser's output variance (≈ λ for λ ≪ σ_max²)."""
    lam = check_nonnegative(lam, "lam")
    s0, sT = check_sigma_range(sigma_min, sigma_max)
    return sT**2 * (lam + s0**2) / (lam + sT**2)


def one_layer_emergence_time(
    lam,
    *,
    eta=1.0,
    q=0.0,
    criterion="geometric",
    sigma_min=SIGMA_MIN,
    sigma_max=SIGMA_MAX,
    target=None,
    tau_range=(1e-8, 1e12),
    n_grid=4000,
):
    """First-passage (emergence) time τ*_k of Prop. 4.2's λ̂_k(τ), without a user-supplied time grid (§4, Fig. 2C).

    The threshold is the geometric (or harmonic) mean of λ̂_k(0) = σ_max²(σ_min/σ_max)^{2(1-Q)} and ``target``
    (default: the converged value σ_max²(λ+σ_min²)/(λ+σ_max²) ≈ λ; pass ``target=lam`` for the paper's λ_k).
    The first crossing is located on a log grid of ``n_grid`` times over ``tau_range`` and refined by 60 bisection
    steps in ln τ (relative accuracy ~ grid spacing x 2^-60). Crossings closer together than one grid cell
    (possible only for non-monotonic transients) could be missed. ``lam`` (n,) > 0; returns an
    :class:`~spectral_bias.theory.emergence.EmergenceResult` with NaN where no crossing lies in ``tau_range``.
    """
    lam = check_positive(lam, "lam")
    if lam.ndim > 1:
        raise ValueError(f"lam must be a scalar or 1-D array, got shape {lam.shape}")
    lam1 = np.atleast_1d(lam)
    q = check_finite(q, "q")
    t_lo, t_hi = (float(v) for v in check_positive(tau_range, "tau_range"))
    if not t_lo < t_hi:
        raise ValueError("tau_range must be (low, high) with 0 < low < high")
    init = np.broadcast_to(_initial_variance_or_raise(q, sigma_min, sigma_max), lam1.shape)
    tgt = (
        generated_variance_converged(lam1, sigma_min=sigma_min, sigma_max=sigma_max)
        if target is None
        else np.broadcast_to(check_positive(target, "target"), lam1.shape)
    )
    thr = emergence_threshold(init, tgt, criterion)
    increasing = init < thr
    grid = np.geomspace(t_lo, t_hi, check_integer(n_grid, "n_grid", min_value=2))
    model = dict(q=np.broadcast_to(q, lam1.shape), eta=eta, sigma_min=sigma_min, sigma_max=sigma_max)
    tau_star = _scan_then_bisect(lam1, grid, np.log(thr), increasing, model)
    direction = np.where(increasing, "increasing", "decreasing")
    if lam.ndim == 0:
        return EmergenceResult(tau_star[0], direction[0], thr[0], init[0])
    return EmergenceResult(tau_star, direction, thr, np.asarray(init, dtype=float))


def _initial_variance_or_raise(q, sigma_min, sigma_max):
    """λ̂(0) of :func:`generated_variance_at_init`, or a ValueError naming q when it leaves the float64 range (the
    start of every one-layer emergence time: :func:`one_layer_emergence_time`, ``one_layer_emergence_time_exact``)."""
    with np.errstate(over="ignore", under="ignore"):
        init = generated_variance_at_init(q, sigma_min=sigma_min, sigma_max=sigma_max)
    if not np.all((init > 0) & np.isfinite(init)):
        raise ValueError(
            f"q={np.max(np.abs(q)):g} is too large in magnitude: the initial generated variance "
            f"σ_max²(σ_min/σ_max)^(2(1-q)) leaves the float64 range"
        )
    return init


def _scan_then_bisect(lam, grid, log_thr, increasing, model):
    """First passage of ln λ̂_k(τ) (Prop. 4.2 with the keywords ``model``: per-mode q, eta, sigma_min, sigma_max)
    through ``log_thr`` (n,): the first grid time past it, refined by 60 bisection steps in ln τ between it and the
    grid time before. ``grid[0]`` where a mode starts past it, NaN where it never gets there within the grid."""
    q = model["q"]
    fixed = {k: v for k, v in model.items() if k != "q"}
    lv = one_layer_log_generated_variance(lam[:, None], grid, q=q[:, None], **fixed)
    j = _first_sample_past(lv, log_thr, increasing)
    tau_star = np.full(lam.shape, np.nan)
    tau_star[j == 0] = grid[0]
    k = np.flatnonzero(j > 0)
    if k.size:
        a, b = np.log(grid[j[k] - 1]), np.log(grid[j[k]])
        for _ in range(60):
            mid = 0.5 * (a + b)
            v = one_layer_log_generated_variance(lam[k], np.exp(mid), q=q[k], **fixed)
            crossed = np.where(increasing[k], v >= log_thr[k], v <= log_thr[k])
            b = np.where(crossed, mid, b)
            a = np.where(crossed, a, mid)
        tau_star[k] = np.exp(0.5 * (a + b))
    return tau_star
