"""epsilon-prediction and EDM weighting/preconditioning (theory notes Sec. 3.8, 6.1): closed forms and
reparametrisations vs full-matrix gradient flow, adaptive quadrature and the PF-ODE sampler."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import ortho_group

from spectral_bias.numerics import heun_sampler_linear, regression_gradient_flow
from spectral_bias.theory import (
    edm_effective_learning_rate,
    edm_loss_weight,
    edm_noise_density,
    edm_preconditioning,
    eps_prediction_denoiser_weight,
    eps_prediction_generated_variance,
    eps_prediction_weight,
    preconditioned_generated_variance,
    preconditioned_weight,
)

SMIN, SMAX = 0.002, 80.0


def _quad_log_gen_var(wfun):
    val, _ = quad(lambda x: 1.0 - wfun(np.exp(x)), np.log(SMIN), np.log(SMAX), limit=500, epsabs=1e-12, epsrel=1e-12)
    return 2 * np.log(SMAX) - 2 * val


def _setup(d=3, seed=11):
    U = ortho_group.rvs(d, random_state=seed)
    lam = np.array([2.0, 0.2, 0.01])
    return lam, U, (U * lam) @ U.T


def test_eps_weight_matches_full_matrix_gradient_flow():
    lam, U, cov = _setup()
    times = np.array([0.0, 0.05, 0.5, 2.0])
    for sigma in (0.1, 1.0, 3.0):
        # regress z on x = x0 + sigma z: S_xx = Sigma + sigma^2 I, S_zx = sigma I
        W = regression_gradient_flow(cov + sigma**2 * np.eye(3), sigma * np.eye(3), 0.05 * np.eye(3), times)
        M = np.einsum("ik,tij,jl->tkl", U, W, U)
        np.testing.assert_allclose(
            np.diagonal(M, axis1=1, axis2=2), eps_prediction_weight(lam, sigma, times[:, None], q=0.05), atol=1e-10
        )


@pytest.mark.parametrize("q", [0.0, 0.02])
def test_eps_generated_variance_matches_quadrature(q):
    for lam in (5.0, 0.1, 1e-3):
        for tau in (0.0, 1e-3, 0.3, 30.0):
            ref = _quad_log_gen_var(lambda s: float(eps_prediction_denoiser_weight(lam, s, tau, q=q)))
            assert np.log(eps_prediction_generated_variance(lam, tau, q=q)) == pytest.approx(ref, abs=1e-8)


def test_eps_generated_variance_matches_sampler():
    lam, U, cov = _setup()
    tau, q = 0.5, 0.01
    den = lambda s: (U * eps_prediction_denoiser_weight(lam, s, tau, q=q)) @ U.T
    out = heun_sampler_linear(den, x_init=SMAX * np.eye(3), n_steps=1600)
    gen = np.diag(U.T @ out.T @ out @ U)
    # Heun at 1600 EDM steps: O(h^2) error ~1e-4 relative (measured scaling in test_theory_convolution)
    np.testing.assert_allclose(gen, eps_prediction_generated_variance(lam, tau, q=q), rtol=3e-4)


def test_edm_reparametrisation_matches_gradient_flow_on_inner_weights():
    # gradient flow on V for D = c_skip x + c_out V c_in x with loss weight lambda(sigma) p(sigma), V(0) = 0
    lam, U, cov = _setup()
    times = np.array([0.0, 0.3, 3.0, 30.0])
    for sigma in (0.05, 0.5, 3.0):
        c_skip, c_out, c_in = edm_preconditioning(sigma)
        scale = edm_loss_weight(sigma) * edm_noise_density(sigma) * (c_out * c_in) ** 2
        sxx = cov + sigma**2 * np.eye(3)
        syx = (cov - c_skip * sxx) / (c_out * c_in)  # target of V: (x0 - c_skip x)/(c_out c_in)
        V = regression_gradient_flow(sxx, syx, np.zeros((3, 3)), times, eta=float(scale))
        W = c_skip * np.eye(3) + c_out * c_in * V
        M = np.einsum("ik,tij,jl->tkl", U, W, U)
        np.testing.assert_allclose(
            np.diagonal(M, axis1=1, axis2=2), preconditioned_weight(lam, sigma, times[:, None]), atol=1e-10
        )
        # the EDM choices make lambda c_out^2 = 1: eta_eff = p/(sigma^2 + sigma_d^2)
        assert edm_effective_learning_rate(sigma) == pytest.approx(edm_noise_density(sigma) / (sigma**2 + 0.25))


def test_preconditioned_generated_variance_matches_adaptive_quadrature_and_limits():
    for lam in (3.0, 0.02):
        for tau in (0.0, 2.0, 200.0):
            ref = _quad_log_gen_var(lambda s: float(preconditioned_weight(lam, s, tau)))
            assert np.log(preconditioned_generated_variance(lam, tau)) == pytest.approx(ref, abs=1e-8)
    # tau = 0: D = c_skip x, per mode d ln x/d sigma = sigma/(sigma^2 + sd^2): gen_var = smax^2
    # (smin^2+sd^2)/(smax^2+sd^2)
    np.testing.assert_allclose(
        preconditioned_generated_variance(np.array([5.0, 1e-3]), 0.0),
        SMAX**2 * (SMIN**2 + 0.25) / (SMAX**2 + 0.25),
        rtol=1e-9,
    )


@pytest.mark.parametrize(
    "call, exc, word",
    [
        (lambda: eps_prediction_weight(-1.0, 1.0, 1.0), ValueError, "lam"),
        (lambda: eps_prediction_weight(1.0, 0.0, 1.0), ValueError, "sigma"),
        (lambda: eps_prediction_generated_variance(1.0, 1.0, eta=np.inf), ValueError, "eta"),
        (lambda: eps_prediction_generated_variance(1.0, 1.0, sigma_min=1.0, sigma_max=0.5), ValueError, "sigma_min"),
        (lambda: edm_preconditioning(1.0, sigma_data=0.0), ValueError, "sigma_data"),
        (lambda: edm_noise_density(1.0, p_std=-1.0), ValueError, "p_std"),
        (lambda: preconditioned_weight(1.0, 1.0, -2.0), ValueError, "tau"),
        (lambda: preconditioned_generated_variance([1.0, np.nan], 1.0), ValueError, "lam"),
    ],
)
def test_objectives_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_erf_over_x_matches_scipy_and_its_limits():
    from scipy.special import erf

    from spectral_bias.theory._special import erf_over_x

    x = np.array([1e-3, 0.1, 1.0, 3.0, 30.0])
    np.testing.assert_allclose(erf_over_x(x), erf(x) / x, rtol=1e-15)
    tiny = np.array([0.0, 1e-300, 1e-6, 9e-5])  # the series branch: erf(x)/x = 2/sqrt(pi) (1 - x²/3 + x⁴/10 ...)
    np.testing.assert_allclose(erf_over_x(tiny), 2 / np.sqrt(np.pi) * (1 - tiny**2 / 3 + tiny**4 / 10), rtol=1e-15)
    assert erf_over_x(np.array([np.inf]))[0] == 0.0
