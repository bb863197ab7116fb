"""Emergence times and power-law fits: synthetic trajectories with known crossings, root finding on the closed
form, ordinary-least-squares standard errors."""

import numpy as np
import pytest
from scipy.optimize import brentq

from spectral_bias.theory import (
    emergence_time,
    fit_power_law,
    generated_variance_at_init,
    gray_zone_mask,
    one_layer_emergence_time,
    one_layer_generated_variance,
)


def test_log_interpolated_crossing_is_exact_for_power_law_trajectories():
    # y = t^2 is linear in (ln t, ln y): log-log interpolation must be exact between grid points
    t = np.logspace(-2, 2, 9)
    y = np.vstack([t**2, 3 * t**2])
    res = emergence_time(t, y, targets=np.array([1e4, 1e4]), initial=np.array([1e-4, 1e-4]))
    thr = np.sqrt(1e-4 * 1e4)  # geometric mean = 1
    assert np.allclose(res.tau_star, [np.sqrt(thr), np.sqrt(thr / 3)], rtol=1e-12)
    assert list(res.direction) == ["increasing", "increasing"]


def test_decreasing_modes_harmonic_threshold_and_never_crossing():
    t = np.linspace(0.0, 10.0, 101)
    y = np.vstack([np.exp(-t), 2.0 + 0 * t])  # second mode never moves
    res = emergence_time(t, y, targets=np.array([np.exp(-10.0), 0.5]), criterion="harmonic")
    h = 2.0 / (1.0 + np.exp(10.0))
    # the crossing of exp(-t) through h is at -ln h; linear interpolation of ln y in ln t between grid points
    # of spacing 0.1 near t≈7 errs by < 1e-3 (ln y = -t is close to linear in ln t locally)
    assert res.tau_star[0] == pytest.approx(-np.log(h), rel=1e-3)
    assert res.direction[0] == "decreasing"
    assert np.isnan(res.tau_star[1])


def test_crossing_from_time_zero_uses_linear_interpolation():
    t = np.array([0.0, 1.0, 2.0])
    res = emergence_time(t, np.array([1.0, 3.0, 9.0]), 4.0)  # threshold 2 between t=0 and t=1
    assert res.tau_star == pytest.approx(np.log(2) / np.log(3))  # interpolation in ln y, linear in t


def test_smoothing_removes_a_spurious_early_crossing():
    t = np.linspace(1, 100, 200)
    y = 1e-2 + (1 - 1e-2) / (1 + np.exp(-(t - 50) / 3))
    noisy = y.copy()
    noisy[5] = 0.5  # a single glitch above the threshold 0.1
    raw = emergence_time(t, noisy, 1.0).tau_star
    smooth = emergence_time(t, noisy, 1.0, smooth=3.0).tau_star
    clean = emergence_time(t, y, 1.0).tau_star
    assert raw < 5 and abs(smooth - clean) < 2.0


def _tau_star_root(lam, q, criterion):
    init = generated_variance_at_init(q)

    def f(lt):
        v = one_layer_generated_variance(lam, np.exp(lt), q=q)
        thr = np.sqrt(init * lam) if criterion == "geometric" else 2 / (1 / init + 1 / lam)
        return np.log(v) - np.log(thr)

    return np.exp(brentq(f, np.log(1e-8), np.log(1e8), xtol=1e-12))


@pytest.mark.parametrize("q", [0.0, 0.1])
def test_grid_emergence_times_match_root_finding_and_slope_is_minus_one(q):
    lam = np.logspace(-3, 1, 13)
    t = np.logspace(-4, 5, 3000)
    traj = one_layer_generated_variance(lam[:, None], t, q=q)
    res = emergence_time(t, traj, lam, initial=generated_variance_at_init(q))
    roots = np.array([_tau_star_root(l, q, "geometric") for l in lam])
    # grid spacing 0.007 in ln τ: log-log interpolation error is second order, well below 1e-4 relative
    assert np.max(np.abs(res.tau_star / roots - 1)) < 1e-4
    fit = fit_power_law(lam, res.tau_star)
    assert fit.slope == pytest.approx(-1.0, abs=0.05)
    assert fit.r2 > 0.999


def test_fit_recovers_exact_power_law_and_bootstrap_ci_matches_ols_standard_error():
    rng = np.random.default_rng(3)
    lam = np.logspace(-4, 1, 400)
    exact = fit_power_law(lam, 2.0 * lam**-0.8)
    assert exact.slope == pytest.approx(-0.8, abs=1e-12) and exact.intercept == pytest.approx(np.log10(2))
    noise = 0.2
    tau = 2.0 * lam**-0.8 * 10 ** (noise * rng.standard_normal(lam.size))
    fit = fit_power_law(lam, tau, n_boot=2000, seed=1)
    x = np.log10(lam)
    se = noise / np.sqrt(np.sum((x - x.mean()) ** 2))  # OLS standard error of the slope
    width = fit.ci[1] - fit.ci[0]
    assert width == pytest.approx(2 * 1.96 * se, rel=0.15)  # bootstrap ≈ normal-theory interval
    assert fit.ci[0] < -0.8 < fit.ci[1]
    assert fit.n == 400 and fit.alpha == pytest.approx(-fit.slope)


def test_gray_zone_and_mask_exclusion():
    lam = np.logspace(-3, 1, 9)
    init = np.full(9, 0.1)
    mask = gray_zone_mask(init, lam)
    assert list(mask) == list((0.1 / lam >= 0.5) & (0.1 / lam <= 2))
    tau = 1 / lam
    tau_bad = tau.copy()
    tau_bad[mask] = 1e9  # corrupt the gray-zone modes: the per-mode rule must remove them
    fit = fit_power_law(lam, tau_bad, exclude="gray-zone", initial=init, target=lam)
    assert fit.slope == pytest.approx(-1.0, abs=1e-12) and fit.n == 9 - mask.sum()
    fit2 = fit_power_law(lam, tau_bad, exclude=mask)
    assert fit2.slope == pytest.approx(-1.0, abs=1e-12)
    traj = np.tile(init[:, None], (1, 20))
    fit3 = fit_power_law(lam, tau_bad, exclude="authors", trajectories=traj, target=lam)
    assert fit3.n == fit.n


def test_nan_modes_are_dropped():
    lam = np.logspace(-2, 1, 6)
    tau = 1 / lam
    tau[0] = np.nan
    assert fit_power_law(lam, tau).n == 5


@pytest.mark.parametrize("q,criterion", [(0.1, "geometric"), (0.0, "harmonic"), (0.5, "geometric")])
def test_one_layer_emergence_time_matches_brentq_root(q, criterion):
    lam = np.array([3.0, 0.3, 0.03, 0.003])
    res = one_layer_emergence_time(lam, q=q, criterion=criterion, target=lam)
    init = generated_variance_at_init(q)
    for l, ts, d in zip(lam, res.tau_star, res.direction):
        thr = np.sqrt(init * l) if criterion == "geometric" else 2 / (1 / init + 1 / l)
        if q == 0.5 and init / l < 2 and init / l > 0.5:
            continue  # gray zone: the threshold may be crossed more than once
        f = lambda lt: np.log(one_layer_generated_variance(l, np.exp(lt), q=q)) - np.log(thr)
        root = np.exp(brentq(f, np.log(ts) - 0.01, np.log(ts) + 0.01, xtol=1e-14))
        assert ts == pytest.approx(root, rel=1e-9)
        # and it is the first passage: before it the trajectory has not crossed (checked on a dense grid)
        early = one_layer_generated_variance(l, np.geomspace(1e-8, ts * 0.999, 2000), q=q)
        assert np.all(early < thr) if d == "increasing" else np.all(early > thr)


def test_reverse_regression_slopes_multiply_to_r2():
    # OLS identity: slope(y on x) * slope(x on y) = r²; both directions recover α on noise-free data
    rng = np.random.default_rng(5)
    lam = np.logspace(-3, 1, 50)
    tau = lam**-1.1 * 10 ** (0.1 * rng.standard_normal(50))
    a = fit_power_law(lam, tau)
    b = fit_power_law(lam, tau, regress="lam_on_tau")
    assert a.slope * b.slope == pytest.approx(a.r2, rel=1e-12) and b.r2 == pytest.approx(a.r2, rel=1e-12)
    exact = fit_power_law(lam, lam**-1.1, regress="lam_on_tau")
    assert exact.alpha == pytest.approx(1.1, rel=1e-12) and exact.slope == pytest.approx(-1 / 1.1, rel=1e-12)


def test_log_interpolation_is_exact_on_power_laws_and_linear_from_time_zero():
    from spectral_bias.theory.emergence import _first_sample_past, _log_interpolate

    # y = 3 t^-0.7 is a straight line in (ln t, ln y): the crossing of y = 1 is t = 3^(1/0.7) exactly
    t0, t1 = np.array([2.0]), np.array([5.0])
    got = _log_interpolate(t0, t1, 3 * t0**-0.7, 3 * t1**-0.7, np.array([1.0]))
    assert got[0] == pytest.approx(3 ** (1 / 0.7), rel=1e-14)
    # from t0 = 0 the interpolation is linear in t, still log-linear in y: y from 1 to 4 reaches 2 halfway
    assert _log_interpolate(np.array([0.0]), np.array([0.5]), np.ones(1), np.full(1, 4.0), np.full(1, 2.0))[0] == 0.25
    assert _log_interpolate(np.array([1.0]), np.array([2.0]), np.ones(1), np.ones(1), np.ones(1))[0] == 2.0  # flat
    y = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [1.0, 1.0, 1.0]])
    j = _first_sample_past(y, np.array([2.5, 2.0, 2.0]), np.array([True, False, True]))
    assert j.tolist() == [2, 1, -1]
