"""Deep linear denoisers (Sec. 5.1, Prop. 5.1): closed forms vs quadrature, ODE solves and full-matrix gradient flow."""

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp
from scipy.stats import ortho_group

from spectral_bias.numerics import factor_gradient_flow, symmetric_gradient_flow
from spectral_bias.theory import (
    deep_linear_generated_variance,
    deep_linear_weight,
    flow_matching_weight,
    two_layer_generated_variance,
    two_layer_weight,
)

SMIN, SMAX = 0.002, 80.0


def _cov(d=4, seed=0):
    rng = np.random.default_rng(seed)
    lam = np.sort(np.exp(rng.normal(size=d)))[::-1]
    U = ortho_group.rvs(d, random_state=seed)
    return lam, U, (U * lam) @ U.T


def _quad_log_gen_var(wfun):
    """ln gen_var = ln smax^2 - 2 int (1 - w(s))/s ds by adaptive quadrature in ln s (independent of the rule)."""
    val, _ = quad(lambda x: 1.0 - wfun(np.exp(x)), np.log(SMIN), np.log(SMAX), limit=400, epsabs=1e-13, epsrel=1e-12)
    return 2 * np.log(SMAX) - 2 * val


# ---------------------------------------------------------------- symmetric two-layer P P^T ----------


def test_two_layer_weight_matches_full_matrix_gradient_flow_aligned():
    lam, U, cov = _cov()
    q = np.array([0.1, 0.05, 0.2, 0.02])
    P0 = (U * np.sqrt(q)) @ U.T  # aligned: P0 P0^T = U diag(q) U^T
    times = np.array([0.0, 0.05, 0.3, 1.0, 3.0])
    for sigma in (0.3, 2.0):
        W = symmetric_gradient_flow(cov, sigma, P0, times, eta=0.7)
        diag = np.einsum("ik,tij,jk->tk", U, W, U)
        pred = two_layer_weight(lam, sigma, times[:, None], eta=0.7, q=q)
        # RK4 at dt <= 0.02/rate: global error ~1e-10
        assert np.max(np.abs(diag - pred)) < 1e-8
        off = W - np.einsum("ik,tk,jk->tij", U, diag, U)
        assert np.max(np.abs(off)) < 1e-8  # aligned init stays aligned


def test_two_layer_weight_emergence_time_is_ln2_over_8_eta_lam():
    # harmonic mean of q and w* is reached at exactly ln 2/(8 eta lam) (sigma-independent): solve the ODE
    lam, sigma, q, eta = 0.5, 1.3, 0.01, 2.0
    K = lam / (lam + sigma**2)
    target = 2 / (1 / q + 1 / K)
    ev = lambda t, w: w[0] - target
    ev.terminal = True
    sol = solve_ivp(
        lambda t, w: 8 * eta * w * (lam - w * (lam + sigma**2)), (0, 10), [q], events=ev, rtol=1e-12, atol=1e-14
    )
    assert sol.t_events[0][0] == pytest.approx(np.log(2) / (8 * eta * lam), rel=1e-8)
    assert two_layer_weight(lam, sigma, np.log(2) / (8 * eta * lam), eta=eta, q=q) == pytest.approx(target, rel=1e-12)


@pytest.mark.parametrize("q", [0.1, 0.5, 1.0])
def test_two_layer_generated_variance_matches_quadrature(q):
    for lam in (10.0, 0.3, 0.004):
        for tau in (1e-3, 0.1, 3.0, 200.0):
            pred = np.log(two_layer_generated_variance(lam, tau, eta=1.0, q=q))
            ref = _quad_log_gen_var(lambda s: float(two_layer_weight(lam, s, tau, q=q)))
            assert pred == pytest.approx(ref, abs=1e-9)


def test_two_layer_generated_variance_limits():
    lam = np.array([10.0, 1.0, 0.01])
    q = 0.3
    g0 = two_layer_generated_variance(lam, 0.0, q=q)
    np.testing.assert_allclose(g0, SMAX**2 * (SMIN / SMAX) ** (2 * (1 - q)), rtol=1e-12)
    ginf = two_layer_generated_variance(lam, 1e6, q=q)
    np.testing.assert_allclose(ginf, SMAX**2 * (lam + SMIN**2) / (lam + SMAX**2), rtol=1e-10)


def test_q_zero_means_no_learning_and_no_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = two_layer_weight([1.0, 0.0], 0.5, [0.0, 1e5], q=0.0)
        g = two_layer_generated_variance([1.0, 1e-3], [0.0, 1e6], q=0.0)
        wd = deep_linear_weight(1.0, 0.5, [0.0, 1e5], q=0.0, depth=3)
    assert np.all(w == 0) and np.all(wd == 0)
    # D = 0 for all sigma: dx/dsigma = x/sigma contracts by smin/smax, so gen_var = smin^2 exactly
    np.testing.assert_allclose(g, SMIN**2, rtol=1e-12)


def test_two_layer_weight_lam_zero_is_the_limit():
    # lam -> 0: dw/dtau = -8 eta sigma^2 w^2, so w = q/(1 + 8 eta sigma^2 q tau)
    q, sigma, tau = 0.4, 0.7, np.array([0.0, 0.3, 5.0])
    np.testing.assert_allclose(two_layer_weight(0.0, sigma, tau, q=q), q / (1 + 8 * sigma**2 * q * tau), rtol=1e-13)


# ---------------------------------------------------------------- balanced depth-L -------------------


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_deep_weight_matches_full_matrix_gradient_flow_balanced(depth):
    lam, U, cov = _cov(d=3, seed=1)
    q = np.array([0.2, 0.1, 0.3])
    # balanced aligned factors W_l = U diag(q^{1/L}) U^T
    f0 = [(U * q ** (1 / depth)) @ U.T for _ in range(depth)]
    times = np.array([0.0, 0.2, 1.0, 4.0])
    sigma = 0.6
    W, _ = factor_gradient_flow(cov, sigma, f0, times, eta=0.5)
    diag = np.einsum("ik,tij,jk->tk", U, W, U)
    pred = deep_linear_weight(lam, sigma, times[:, None], eta=0.5, q=q, depth=depth)
    assert np.max(np.abs(diag - pred)) < 1e-8


@pytest.mark.parametrize("depth", [3, 5])
def test_deep_weight_matches_ode_solve_in_hard_corners(depth):
    # tiny K (sigma = 80, decays from far above), tiny q (long plateau), q = 1 > K
    for lam, sigma, q in [(0.01, 80.0, 0.5), (10.0, 0.01, 1e-3), (0.3, 0.3, 1.0), (1e-3, 0.1, 0.1)]:
        taus = np.logspace(-4, 4, 25)
        rhs = lambda t, w: -2 * depth * np.abs(w) ** (2 - 2 / depth) * ((lam + sigma**2) * w - lam)
        sol = solve_ivp(rhs, (0, taus[-1]), [q], t_eval=taus, method="LSODA", rtol=1e-12, atol=1e-16)
        pred = deep_linear_weight(lam, sigma, taus, q=q, depth=depth)
        # relative 1e-7: LSODA's own error at rtol 1e-12 over 8 decades of tau, plus the spline inverse (~1e-10)
        np.testing.assert_allclose(pred, sol.y[0], rtol=1e-7)


def test_balanced_two_layer_is_half_the_symmetric_rate():
    lam, sigma, q, tau = 0.7, 0.4, 0.05, np.linspace(0, 3, 7)
    np.testing.assert_allclose(
        deep_linear_weight(lam, sigma, tau, q=q, depth=2), two_layer_weight(lam, sigma, tau / 2, q=q), rtol=1e-13
    )


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_deep_generated_variance_matches_adaptive_quadrature(depth):
    for lam in (3.0, 0.05):
        for tau in (0.01, 1.0, 100.0):
            pred = np.log(deep_linear_generated_variance(lam, tau, q=0.2, depth=depth))
            ref = _quad_log_gen_var(lambda s: float(deep_linear_weight(lam, s, tau, q=0.2, depth=depth)))
            assert pred == pytest.approx(ref, abs=1e-8)


def test_non_aligned_init_off_diagonal_rises_and_falls():
    # App. E.1.2: from a small random (non-aligned) P, the off-diagonal part of U^T P P^T U grows, then decays
    lam, U, cov = _cov(d=4, seed=2)
    rng = np.random.default_rng(3)
    P0 = 0.05 * rng.normal(size=(4, 4))
    times = np.concatenate([[0.0], np.logspace(-2, 1.7, 30)])
    W = symmetric_gradient_flow(cov, 0.2, P0, times)
    M = np.einsum("ik,tij,jl->tkl", U, W, U)
    off = np.sqrt(np.sum((M * (1 - np.eye(4))) ** 2, axis=(1, 2)))
    k = np.argmax(off)
    assert 0 < k < len(times) - 1
    assert off[k] > 3 * off[0] and off[-1] < 1e-3 * off[k]
    wstar = lam / (lam + 0.2**2)
    np.testing.assert_allclose(np.diagonal(M[-1]), wstar, atol=1e-6)


# ---------------------------------------------------------------- bad input --------------------------


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        (dict(lam=-1.0, sigma=1.0, tau=1.0, q=0.1), ValueError, "lam"),
        (dict(lam=1.0, sigma=0.0, tau=1.0, q=0.1), ValueError, "sigma"),
        (dict(lam=1.0, sigma=1.0, tau=-1.0, q=0.1), ValueError, "tau"),
        (dict(lam=1.0, sigma=1.0, tau=np.inf, q=0.1), ValueError, "tau"),
        (dict(lam=1.0, sigma=1.0, tau=1.0, q=-0.1), ValueError, "q"),
        (dict(lam=1.0, sigma=1.0, tau=1.0, q=0.1, eta=0.0), ValueError, "eta"),
        (dict(lam="a", sigma=1.0, tau=1.0, q=0.1), TypeError, "lam"),
    ],
)
def test_two_layer_weight_bad_input(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        two_layer_weight(**kwargs)


def test_generated_variance_bad_sigma_range_and_depth():
    with pytest.raises(ValueError, match="sigma_min"):
        two_layer_generated_variance(1.0, 1.0, q=0.1, sigma_min=80.0, sigma_max=1.0)
    with pytest.raises(TypeError, match="depth"):
        deep_linear_weight(1.0, 1.0, 1.0, q=0.1, depth=2.0)
    with pytest.raises(ValueError, match="depth"):
        deep_linear_generated_variance(1.0, 1.0, q=0.1, depth=0)
    with pytest.raises(ValueError, match="lam"):
        deep_linear_weight(0.0, 1.0, 1.0, q=0.1, depth=3)
    with pytest.raises(ValueError, match="broadcast|shape"):
        two_layer_weight(np.ones(3), np.ones(2), 1.0, q=0.1)
    with pytest.raises(ValueError, match="lam.*t"):
        flow_matching_weight(np.ones(3), np.full(2, 0.5), 1.0)


def test_deep_rate_collapses_all_modes_onto_one_curve():
    # with v = w/K and s = c tau, every (lam, sigma) with the same v(0) = q/K follows the same v(s) (Prop. depth-L)
    from spectral_bias.theory import deep_linear_rate

    for depth in (2, 3, 4):
        s = np.logspace(-2, 2, 9)
        curves = []
        for lam, sigma in ((1.0, 0.1), (0.02, 1.5), (5.0, 30.0)):
            K = lam / (lam + sigma**2)
            c = deep_linear_rate(lam, sigma, depth=depth, eta=0.7)
            curves.append(deep_linear_weight(lam, sigma, s / c, eta=0.7, q=0.05 * K, depth=depth) / K)
        np.testing.assert_allclose(curves[1], curves[0], rtol=1e-9)
        np.testing.assert_allclose(curves[2], curves[0], rtol=1e-9)


@pytest.mark.parametrize(
    "call, exc, word",
    [
        (lambda: symmetric_gradient_flow(np.ones((2, 3)), 1.0, np.eye(2), [0.0, 1.0]), ValueError, "cov"),
        (
            lambda: symmetric_gradient_flow(np.triu(np.ones((2, 2))), 1.0, np.eye(2), [0.0, 1.0]),
            ValueError,
            "symmetric",
        ),
        (lambda: symmetric_gradient_flow(np.eye(2), -1.0, np.eye(2), [0.0, 1.0]), ValueError, "sigma"),
        (lambda: factor_gradient_flow(np.eye(2), 1.0, [np.eye(2)], [1.0, 0.5]), ValueError, "times"),
        (lambda: factor_gradient_flow(np.eye(2), 1.0, [np.eye(2)], [0.0, 1.0], eta=0.0), ValueError, "eta"),
    ],
)
def test_numerics_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()
