"""Linear flow matching (App. H, Figs. 7-8): closed forms vs quadrature, full-matrix gradient flow and a sampler."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import ortho_group

from spectral_bias.numerics import flow_matching_moments, heun_linear_flow, regression_gradient_flow
from spectral_bias.theory import (
    flow_matching_generated_variance,
    flow_matching_optimal_weight,
    flow_matching_weight,
)


@pytest.mark.parametrize("q", [0.0, 0.1, 0.6, -0.3])
def test_generated_variance_matches_quadrature_over_t(q):
    for lam in (10.0, 1.0, 0.03, 1e-3):
        for tau in (0.0, 1e-4, 0.05, 1.0, 30.0, 1e3):
            I, _ = quad(
                lambda t: float(flow_matching_weight(lam, t, tau, q=q)),
                0,
                1,
                limit=400,
                epsabs=1e-13,
                epsrel=1e-12,
                points=[1 / (1 + lam)],
            )
            assert np.log(flow_matching_generated_variance(lam, tau, q=q)) == pytest.approx(2 * I, abs=1e-9)


def test_generated_variance_limits():
    lam = np.array([10.0, 0.5, 1e-3])
    np.testing.assert_allclose(flow_matching_generated_variance(lam, 0.0, q=0.3), np.exp(0.6), rtol=1e-13)
    # tau -> inf: exactly lam (no sigma_min/sigma_max truncation in flow matching)
    np.testing.assert_allclose(flow_matching_generated_variance(lam, 1e8, q=0.3), lam, rtol=1e-6)


def test_weights_match_full_matrix_gradient_flow():
    d = 3
    U = ortho_group.rvs(d, random_state=4)
    lam = np.array([4.0, 0.5, 0.02])
    cov = (U * lam) @ U.T
    times = np.array([0.0, 0.1, 1.0, 5.0])
    for t in (0.1, 0.5, 0.9, 0.99):
        sxx, syx = flow_matching_moments(cov, t)
        W = regression_gradient_flow(sxx, syx, 0.1 * np.eye(d), times, eta=0.8)
        M = np.einsum("ik,tij,jl->tkl", U, W, U)
        pred = flow_matching_weight(lam, t, times[:, None], eta=0.8, q=0.1)
        # RK4 with 200 steps per unit time scale: error ~1e-12
        np.testing.assert_allclose(np.diagonal(M, axis1=1, axis2=2), pred, atol=1e-10)
        assert np.max(np.abs(M * (1 - np.eye(d)))) < 1e-10
        # converged limit is the regression optimum S_yx S_xx^{-1}
        np.testing.assert_allclose(flow_matching_optimal_weight(lam, t), np.diag(U.T @ syx @ np.linalg.inv(sxx) @ U))


def test_generated_variance_matches_sampling_the_learned_velocity_field():
    d = 3
    U = ortho_group.rvs(d, random_state=5)
    lam = np.array([3.0, 0.3, 0.01])
    q, tau = 0.1, np.array([0.3, 3.0, 300.0])
    rng = np.random.default_rng(0)
    n = 20000
    x0 = rng.normal(size=(n, d))
    for tt in tau:
        Wfun = lambda t: (U * flow_matching_weight(lam, t, tt, q=q)) @ U.T
        pred = flow_matching_generated_variance(lam, tt, q=q)
        # (a) transfer matrix from pushing the identity through Heun (deterministic, step error ~1e-7)
        A = heun_linear_flow(Wfun, np.eye(d), n_steps=2000).T
        np.testing.assert_allclose(np.diag(U.T @ A @ A.T @ U), pred, rtol=1e-5)
        # (b) actual samples: relative sampling error of a variance from n samples is sqrt(2/n) = 0.7%; 5 sd
        x1 = heun_linear_flow(Wfun, x0, n_steps=200)
        emp = np.var(x1 @ U, axis=0)
        np.testing.assert_allclose(emp, pred, rtol=5 * np.sqrt(2 / n))


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(lam=0.0, t=0.5, tau=1.0), "lam"),
        (dict(lam=1.0, t=1.5, tau=1.0), "t"),
        (dict(lam=1.0, t=-0.1, tau=1.0), "t"),
        (dict(lam=1.0, t=0.5, tau=-1.0), "tau"),
        (dict(lam=1.0, t=0.5, tau=1.0, eta=-1.0), "eta"),
        (dict(lam=1.0, t=0.5, tau=1.0, q=np.nan), "q"),
    ],
)
def test_flow_matching_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        flow_matching_weight(**kwargs)


def test_flow_generated_variance_bad_input():
    with pytest.raises(ValueError, match="tau"):
        flow_matching_generated_variance(1.0, np.nan)
    with pytest.raises(TypeError, match="lam"):
        flow_matching_generated_variance(None, 1.0)


def test_flow_numerics_bad_input():
    with pytest.raises(ValueError, match="x0"):
        heun_linear_flow(lambda t: np.eye(2), np.ones(3))
    with pytest.raises(TypeError, match="n_steps"):
        heun_linear_flow(lambda t: np.eye(2), np.ones((3, 2)), n_steps=10.5)
    with pytest.raises(ValueError, match="sxx"):
        regression_gradient_flow(np.eye(2), np.eye(3), np.eye(2), [0.0])
    with pytest.raises(ValueError, match="t"):
        flow_matching_moments(np.eye(2), 1.5)
