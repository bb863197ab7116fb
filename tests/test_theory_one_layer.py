"""One-layer closed forms (eq. 7, Prop. 4.2) against independent numerics: adaptive quadrature, ODE/GD, limits."""

import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spectral_bias.theory import (
    generated_variance_at_init,
    generated_variance_converged,
    generated_variance_quadrature,
    log_generated_variance_quadrature,
    one_layer_generated_variance,
    one_layer_log_generated_variance,
    one_layer_weight,
    optimal_weight,
)
from spectral_bias.theory._expint import ein, ein_reference

S0, ST = 0.002, 80.0


def test_ein_table_matches_reference_series_and_scipy():
    # reference: power series (x <= 1) or scipy E1 (x > 1), both ~1e-16; the table's Hermite error is ~1e-13
    x = np.concatenate([[0.0], np.exp(np.random.default_rng(0).uniform(-45, 10, 20000))])
    assert np.max(np.abs(ein(x) - ein_reference(x))) < 1e-13


@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 1.0])
def test_closed_form_matches_adaptive_quadrature_over_full_range(q):
    # scipy.quad in ln σ with epsabs 1e-13 on an integrand of size <= 1 over a length-10.6 interval:
    # the quadrature error of ln λ̂ is ~1e-12, far below the 1e-8 relative tolerance required.
    lam = np.logspace(-8, 4, 7)[:, None]
    tau = np.array([0.0, 1e-8, 1e-5, 1e-3, 0.1, 10.0, 1e3, 1e5, 1e8])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        closed = one_layer_generated_variance(lam, tau, q=q)
    quad = generated_variance_quadrature(one_layer_weight, lam, tau, q=q, method="quad")
    assert np.all(np.isfinite(closed))
    assert np.max(np.abs(closed / quad - 1.0)) < 1e-8


def test_gauss_legendre_quadrature_matches_adaptive_quadrature():
    lam = np.logspace(-6, 3, 4)[:, None]
    tau = np.array([0.0, 1e-4, 1.0, 1e4])
    g = log_generated_variance_quadrature(one_layer_weight, lam, tau, q=0.3, eta=0.5)
    a = log_generated_variance_quadrature(one_layer_weight, lam, tau, q=0.3, eta=0.5, method="quad")
    assert np.max(np.abs(g - a)) < 1e-10


def test_eta_and_tau_enter_only_through_their_product():
    lam = np.logspace(-3, 1, 5)[:, None]
    tau = np.logspace(-3, 3, 7)
    a = one_layer_generated_variance(lam, tau, eta=0.25, q=0.2)
    b = one_layer_generated_variance(lam, 0.25 * tau, eta=1.0, q=0.2)
    assert np.max(np.abs(a / b - 1)) < 1e-12


def test_no_warnings_nan_or_overflow_at_extremes():
    lam = np.logspace(-8, 4, 200)[:, None]
    tau = np.concatenate([[0.0], np.logspace(-12, 8, 300)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for q in (0.0, 0.5, 1.0, 2.0, -1.0):
            v = one_layer_generated_variance(lam, tau, q=q)
            assert np.all(np.isfinite(v)) and np.all(v > 0)


def test_broadcast_shape_modes_by_times():
    v = one_layer_generated_variance(np.logspace(-4, 2, 3072)[:, None], np.logspace(-3, 3, 1000), q=0.1)
    assert v.shape == (3072, 1000)


def test_tau_zero_limit_equals_contraction_by_constant_weight():
    # with w ≡ Q the PF-ODE gives d ln x/dσ = (1-Q)/σ, i.e. x(σ0) = x(σT) (σ0/σT)^{1-Q}: exact, by hand
    q = np.array([0.0, 0.1, 0.5, 1.0])
    expected = ST**2 * (S0 / ST) ** (2 * (1 - q))
    got = one_layer_generated_variance(np.array([1e-6, 0.1, 10.0, 1e4])[:, None], 0.0, q=q)
    assert np.max(np.abs(got / expected - 1)) < 1e-14
    assert np.allclose(generated_variance_at_init(q), expected, rtol=1e-14)
    assert generated_variance_at_init(0.1) == pytest.approx(3.33e-5, rel=1e-2)  # theory.md §3.4 value


def test_tau_infinity_limit_equals_optimal_denoiser_quadrature():
    lam = np.logspace(-6, 3, 10)
    late = one_layer_generated_variance(lam, 1e12, q=0.3)
    # independent: quadrature with the optimal weight (no τ at all)
    opt = generated_variance_quadrature(lambda l, s, t: optimal_weight(l, s), lam, 0.0, method="quad")
    assert np.max(np.abs(late / opt - 1)) < 1e-9
    assert np.max(np.abs(generated_variance_converged(lam) / opt - 1)) < 1e-9
    assert generated_variance_converged(10.0) == pytest.approx(9.9844, abs=1e-4)


def test_weight_matches_ode_solve_of_scalar_gradient_flow():
    # per-mode loss (w-1)²λ + σ²w² (ridge view); dw/dτ = -η dL/dw solved numerically
    lam, sigma, eta, q = 0.37, 0.8, 0.6, 0.2
    taus = np.linspace(0, 3, 7)
    sol = solve_ivp(
        lambda t, w: -eta * (2 * (w - 1) * lam + 2 * sigma**2 * w), (0, 3), [q], t_eval=taus, rtol=1e-12, atol=1e-14
    )
    assert np.max(np.abs(sol.y[0] - one_layer_weight(lam, sigma, taus, eta=eta, q=q))) < 1e-10


def test_weight_limits():
    lam, sigma = np.logspace(-3, 2, 6), 0.5
    assert np.allclose(one_layer_weight(lam, sigma, 0.0, q=0.3), 0.3, rtol=0, atol=1e-15)
    assert np.allclose(one_layer_weight(lam, sigma, 1e6, q=0.3), lam / (lam + 0.25), rtol=1e-15)


def test_log_and_linear_versions_agree():
    lam, tau = np.logspace(-3, 1, 4)[:, None], np.logspace(-2, 2, 5)
    assert np.allclose(
        np.exp(one_layer_log_generated_variance(lam, tau)), one_layer_generated_variance(lam, tau), rtol=1e-15
    )


def test_nonmonotonic_transient_dips_then_rises():
    # theory.md §3.4 example (Q=0.5, λ=0.1): high-σ weights converge first and contract samples
    v = one_layer_generated_variance(0.1, np.array([0.0, 1.0, 10.0, 1e6]), q=0.5)
    assert v[1] < v[0] and v[1] < v[2] < v[3]
    assert v[1] == pytest.approx(0.0035, rel=0.05)
