"""KL divergence and the optimal denoiser / loss floor against independent numerics (quadrature, Monte Carlo,
least squares on samples)."""

import numpy as np
import pytest
from scipy import integrate, stats

from spectral_bias.theory import (
    affine_dsm_loss,
    kl_divergence,
    loss_floor,
    optimal_bias,
    optimal_denoiser,
    optimal_weight,
    optimal_weight_matrix,
    ridge_loss,
)


def _kl_1d_quad(m1, v1, m2, v2):
    p, q = stats.norm(m1, np.sqrt(v1)), stats.norm(m2, np.sqrt(v2))
    f = lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x))
    s = np.sqrt(v1)
    return integrate.quad(f, m1 - 40 * s, m1 + 40 * s, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def test_kl_both_directions_with_means_match_quadrature():
    gv, tv = np.array([0.5, 2.0, 1e-2]), np.array([1.0, 1.0, 3e-2])
    gm, tm = np.array([0.1, -0.3, 0.0]), np.array([0.0, 0.2, 0.05])
    fwd = sum(_kl_1d_quad(gm[k], gv[k], tm[k], tv[k]) for k in range(3))
    rev = sum(_kl_1d_quad(tm[k], tv[k], gm[k], gv[k]) for k in range(3))
    assert kl_divergence(gv, tv, generated_mean=gm, target_mean=tm) == pytest.approx(fwd, rel=1e-8)
    assert kl_divergence(gv, tv, direction="data||generated", generated_mean=gm, target_mean=tm) == pytest.approx(
        rev, rel=1e-8
    )


def test_kl_sums_over_modes_axis_and_is_zero_at_equality():
    v = np.random.default_rng(0).uniform(0.1, 2, (5, 7))
    assert kl_divergence(v, v).shape == (7,)
    assert np.allclose(kl_divergence(v, v), 0.0, atol=1e-15)


def test_optimal_weight_is_least_squares_solution_on_samples():
    # regress x0 on x0 + σz with many samples: the empirical least-squares W converges to Σ(Σ+σ²I)^{-1}
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    cov, mu, sigma, n = a @ a.T, np.array([1.0, -2.0, 0.5]), 0.7, 400_000
    x0 = rng.multivariate_normal(mu, cov, size=n)
    x = x0 + sigma * rng.standard_normal(x0.shape)
    X1 = np.hstack([x, np.ones((n, 1))])
    theta = np.linalg.lstsq(X1, x0, rcond=None)[0]
    # the OLS coefficient error is ~ noise_sd/(sqrt(n) * input_sd) ≈ 1/sqrt(4e5) ≈ 1.6e-3; allow 5x
    assert np.max(np.abs(theta[:3].T - optimal_weight_matrix(cov, sigma))) < 8e-3
    assert np.max(np.abs(theta[3] - optimal_bias(cov, mu, sigma))) < 2e-2
    # and the denoiser applies it
    assert np.allclose(
        optimal_denoiser(x[:3], mu, cov, sigma),
        x[:3] @ optimal_weight_matrix(cov, sigma).T + optimal_bias(cov, mu, sigma),
    )


def test_loss_floor_matches_monte_carlo_dsm_loss():
    rng = np.random.default_rng(2)
    lam = np.array([4.0, 1.0, 0.25, 0.01])
    sigma, n = 0.5, 200_000
    x0 = rng.standard_normal((n, 4)) * np.sqrt(lam)
    x = x0 + sigma * rng.standard_normal(x0.shape)
    err = np.sum((x * optimal_weight(lam, sigma) - x0) ** 2, axis=1)
    se = err.std() / np.sqrt(n)
    assert loss_floor(lam, sigma) == pytest.approx(err.mean(), abs=5 * se)
    # moment formula of the loss at the optimum equals the floor
    cov = np.diag(lam)
    W = optimal_weight_matrix(cov, sigma)
    assert affine_dsm_loss(W, np.zeros(4), cov, np.zeros(4), sigma) == pytest.approx(loss_floor(lam, sigma), rel=1e-12)


def test_ridge_loss_minimised_at_optimal_weight():
    w = np.linspace(-1, 2, 300001)
    lam, sigma = 0.3, 0.9
    i = np.argmin(ridge_loss(w, lam, sigma))
    assert w[i] == pytest.approx(optimal_weight(lam, sigma), abs=2e-5)
    assert ridge_loss(w[i], lam, sigma) == pytest.approx(loss_floor(np.array([lam]), sigma), rel=1e-9)


def test_loss_floor_broadcasts_over_sigma():
    assert loss_floor(np.array([1.0, 2.0]), np.array([0.1, 1.0, 10.0])).shape == (3,)
