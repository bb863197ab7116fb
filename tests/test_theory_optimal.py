"""theory.optimal: the optimal denoiser and the loss floor against independent numerics (Monte Carlo, least squares
on samples, a grid minimisation of the ridge loss)."""

import numpy as np
import pytest

from spectral_bias.theory import (
    affine_dsm_loss,
    loss_floor,
    optimal_bias,
    optimal_denoiser,
    optimal_weight,
    optimal_weight_matrix,
    ridge_loss,
)


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
