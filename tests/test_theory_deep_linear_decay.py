"""The decay curve of shrinking modes of the symmetric two-layer denoiser (chapter 6), checked against an ODE
solve of the per-mode gradient flow followed by quadrature of the PF-ODE integral, and against its asymptotics."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spectral_bias.theory import contraction_transient_variance, two_layer_generated_variance
from spectral_bias.theory.deep_linear import two_layer_decay_curve

SMIN, SMAX = 0.002, 80.0


def _ode_then_quadrature(lam, tau, q, eta, n_nodes=400):
    """ln gen_var from scratch: integrate dw/dtau = 8 eta w (lam - w (lam + s^2)) (gradient flow on P P^T, one mode)
    from w = q to tau at every Gauss-Legendre node s of the integral over ln s, then
    ln gen_var = ln smax^2 - 2 int (1 - w(s))/s ds. No closed form is used."""
    x, wts = np.polynomial.legendre.leggauss(n_nodes)
    a, b = np.log(SMIN), np.log(SMAX)
    ln_s = 0.5 * (b - a) * x + 0.5 * (b + a)
    s2 = np.exp(2 * ln_s)
    sol = solve_ivp(
        lambda t, w: 8 * eta * w * (lam - w * (lam + s2)),
        (0.0, tau),
        np.full(n_nodes, q),
        method="LSODA",
        rtol=1e-11,
        atol=1e-14,
    )
    w_end = sol.y[:, -1]
    integral = 0.5 * (b - a) * np.sum(wts * (1.0 - w_end))
    return 2 * np.log(SMAX) - 2 * integral


@pytest.mark.parametrize("q", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("tau", [1e-3, 0.3, 30.0])
def test_decay_curve_matches_ode_solve_and_quadrature(q, tau):
    eta = 0.7
    ref = _ode_then_quadrature(0.0, tau, q, eta)
    assert np.log(two_layer_decay_curve(tau, eta=eta, q=q)) == pytest.approx(ref, abs=1e-7)


def test_small_variance_modes_follow_the_curve_until_8_eta_lam_tau_is_order_one():
    lam, eta, q = 1e-4, 1.0, 1.0
    tau_on = np.array([0.1, 1.0, 10.0])  # 8 eta lam tau <= 8e-3: on the curve
    on = np.exp(_ode_then_quadrature(lam, tau_on[-1], q, eta))
    assert on / two_layer_decay_curve(tau_on[-1], eta=eta, q=q) == pytest.approx(1.0, rel=2e-2)
    ratio = two_layer_generated_variance(lam, tau_on, q=q) / two_layer_decay_curve(tau_on, q=q)
    assert np.all(np.abs(ratio - 1) < 2e-2)
    # far later the mode has left the curve and settled at its own variance
    late = 1e3 / lam
    settled = SMAX**2 * (lam + SMIN**2) / (lam + SMAX**2)
    assert np.exp(_ode_then_quadrature(lam, late, q, eta)) == pytest.approx(settled, rel=1e-3)
    assert two_layer_decay_curve(late, q=q) < 0.1 * lam


def test_window_power_law_and_comparison_with_one_layer():
    # 8 eta q tau smin^2 << 1 << 8 eta q tau smax^2
    tau = np.array([0.5, 2.0, 8.0])
    for q in (0.5, 1.0):
        law = SMIN ** (2 * (1 - q)) * (8 * q * tau) ** (-q)
        np.testing.assert_allclose(two_layer_decay_curve(tau, q=q) / law, 1.0, rtol=2e-3)
    # q = 1: 1/(8 eta tau), a factor e^gamma/4 below the one-layer envelope e^-gamma/(2 eta tau)
    ratio = two_layer_decay_curve(tau, q=1.0) / contraction_transient_variance(tau, q=1.0)
    np.testing.assert_allclose(ratio, np.exp(np.euler_gamma) / 4, rtol=2e-3)


def test_decay_curve_limits():
    # tau = 0: the common start smax^2 (smin/smax)^{2(1-q)}; q = 0: no learning, smin^2
    q = np.array([0.0, 0.1, 0.5, 1.0])
    np.testing.assert_allclose(two_layer_decay_curve(0.0, q=q), SMAX**2 * (SMIN / SMAX) ** (2 * (1 - q)), rtol=1e-12)
    assert two_layer_decay_curve(5.0, q=0.0) == pytest.approx(SMIN**2, rel=1e-12)
    # tau -> inf: every mode's variance collapses to the minimum (the lam -> 0 target), q = 1 gives smin^2 too
    assert two_layer_decay_curve(1e15, q=1.0) == pytest.approx(SMIN**2, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, exc, word",
    [
        (dict(tau=-1.0, q=0.5), ValueError, "tau"),
        (dict(tau=1.0, q=-0.1), ValueError, "q"),
        (dict(tau=1.0, q=0.5, eta=0.0), ValueError, "eta"),
        (dict(tau=1.0, q=0.5, sigma_min=1.0, sigma_max=0.5), ValueError, "sigma"),
        (dict(tau="1", q=0.5), TypeError, "tau"),
        (dict(tau=np.nan, q=0.5), ValueError, "tau"),
    ],
)
def test_decay_curve_bad_input(kwargs, exc, word):
    tau = kwargs.pop("tau")
    with pytest.raises(exc, match=word):
        two_layer_decay_curve(tau, **kwargs)
