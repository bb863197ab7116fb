"""theory.transients (chapters 4-5): contraction transient, decreasing-branch exponent, exact (brentq) emergence times.

Each closed form is checked against an independent method: quadrature of the PF-ODE rate, a grid-based first-passage
search, and power-law fits of root-found emergence times.
"""

import numpy as np
import pytest

from spectral_bias.theory import (
    contraction_transient_variance,
    decreasing_branch_exponent,
    emergence_threshold,
    emergence_time,
    fit_power_law,
    generated_variance_at_init,
    generated_variance_quadrature,
    one_layer_emergence_time_exact,
    one_layer_generated_variance,
    one_layer_weight,
)


@pytest.mark.parametrize("q", [0.1, 0.5, 1.0])
def test_contraction_transient_matches_quadrature_for_unlearned_mode(q):
    # lam = 0: the mode never learns. The neglected terms are Q*Ein(2 eta tau sigma_min^2) <= 2 tau * 4e-6 <= 8e-6
    # and Q*E1(2 eta tau sigma_max^2) <= exp(-128) for tau in [0.01, 1], so the log error is below 1e-5.
    tau = np.logspace(-2, 0, 9)
    quad = generated_variance_quadrature(one_layer_weight, 0.0, tau, q=q)
    approx = contraction_transient_variance(tau, q=q)
    assert np.max(np.abs(np.log(approx / quad))) < 1e-5


def test_contraction_transient_fails_once_the_mode_learns():
    # the approximation is a lambda -> 0 limit: for 2 eta tau lambda ~ 1 it must be visibly wrong (guards against a
    # formula that merely tracks the closed form everywhere)
    exact = one_layer_generated_variance(0.5, 1.0, q=0.5)
    assert abs(np.log(contraction_transient_variance(1.0, q=0.5) / exact)) > 1.0


@pytest.mark.parametrize(
    "q,criterion", [(0.1, "geometric"), (0.1, "harmonic"), (0.5, "geometric"), (0.6, "harmonic"), (1.0, "geometric")]
)
def test_exact_emergence_time_matches_dense_grid_search(q, criterion):
    lam = np.logspace(-3, 1, 13)
    exact, increasing = one_layer_emergence_time_exact(lam, q=q, criterion=criterion)
    # independent: first sample past the threshold on a 400-per-decade grid, log-log interpolation. Step
    # h = ln(10)/400 ~ 5.8e-3; interpolation error ~ h^2/8 * curvature ~ 1e-5 relative in tau, so 2e-4 is loose.
    t = np.logspace(-6, 5, 4401)
    g = one_layer_generated_variance(lam[:, None], t, q=q)
    res = emergence_time(t, g, lam, initial=generated_variance_at_init(q), criterion=criterion)
    assert np.all(np.isfinite(exact))
    np.testing.assert_allclose(exact, res.tau_star, rtol=2e-4)
    assert np.array_equal(increasing, res.direction == "increasing")


def test_exact_emergence_time_is_a_root_and_the_first_one():
    # Q = 0.5, lambda = 0.05: a decreasing mode that keeps falling far below its target before it rises back to it
    q, lam = 0.5, 0.05
    tau_star, increasing = one_layer_emergence_time_exact(lam, q=q)
    thr = emergence_threshold(generated_variance_at_init(q), lam)
    assert not increasing
    assert one_layer_generated_variance(lam, tau_star, q=q) == pytest.approx(thr, rel=1e-10)
    before = np.logspace(-8, np.log10(tau_star) - 1e-6, 2000)
    assert np.all(one_layer_generated_variance(lam, before, q=q) > thr)


def test_decreasing_mode_emergence_time_matches_transient_prediction():
    # Q = 1, geometric: eta tau* = 1/(2 e^gamma sigma_max sqrt(lambda)); neglected learning 2 eta tau lambda ~ 7e-4
    lam = 1e-2
    tau_star, _ = one_layer_emergence_time_exact(lam, q=1.0)
    predicted = 1.0 / (2 * np.exp(np.euler_gamma) * 80.0 * np.sqrt(lam))
    assert tau_star == pytest.approx(predicted, rel=2e-3)


@pytest.mark.parametrize("q", [0.5, 0.6, 1.0])
def test_decreasing_branch_exponent_matches_fitted_slope_geometric(q):
    # modes far below the common start (lambda <= 1e-3 << lamgen(0) >= 0.16) emerge while 2 eta tau* lambda < 1e-3,
    # deep in the transient regime: the fitted exponent must equal 1/(2Q) to a few 1e-4
    lam = np.logspace(-5, -3, 9)
    tau_star, increasing = one_layer_emergence_time_exact(lam, q=q)
    assert not increasing.any()
    assert fit_power_law(lam, tau_star).alpha == pytest.approx(float(decreasing_branch_exponent(q)), abs=1e-3)


def test_decreasing_branch_exponent_harmonic_within_its_regime():
    # harmonic, Q = 0.5: on lambda in [10^-3.5, 10^-2.5], 2 eta tau* lambda < 2e-3 and the threshold differs from
    # 2 lambda by lambda/lamgen(0) < 2%, so alpha = 1/Q = 2 should hold to about 1%
    lam = np.logspace(-3.5, -2.5, 9)
    tau_star, increasing = one_layer_emergence_time_exact(lam, q=0.5, criterion="harmonic")
    assert not increasing.any()
    assert fit_power_law(lam, tau_star).alpha == pytest.approx(2.0, abs=0.02)
    assert float(decreasing_branch_exponent(0.5, "harmonic")) == 2.0


def test_exact_emergence_time_nan_when_no_crossing_in_range():
    tau_star, _ = one_layer_emergence_time_exact(np.array([1e-3, 10.0]), q=0.1, tau_max=1e-3)
    assert np.isnan(tau_star[0]) and np.isnan(tau_star[1])


def test_bad_inputs_raise_naming_the_argument():
    with pytest.raises(ValueError, match="tau"):
        contraction_transient_variance(0.0)
    with pytest.raises(ValueError, match="eta"):
        contraction_transient_variance(1.0, eta=0.0)
    with pytest.raises(ValueError, match="sigma_min"):
        contraction_transient_variance(1.0, sigma_min=-1.0)
    with pytest.raises(ValueError, match="q"):
        decreasing_branch_exponent(0.0)
    with pytest.raises(ValueError, match="criterion"):
        decreasing_branch_exponent(0.5, criterion="arithmetic")
    with pytest.raises(ValueError, match="lam"):
        one_layer_emergence_time_exact(-1.0)
    with pytest.raises(ValueError, match="tau_min"):
        one_layer_emergence_time_exact(1.0, tau_min=10.0, tau_max=1.0)
    with pytest.raises(ValueError, match="sigma_min"):
        one_layer_emergence_time_exact(1.0, sigma_min=100.0)
    with pytest.raises(ValueError, match="criterion"):
        one_layer_emergence_time_exact(1.0, criterion="median")
    with pytest.raises(ValueError, match="n_scan"):
        one_layer_emergence_time_exact(1.0, n_scan=1)
