"""Matrix (non-aligned) and coupled mean/bias solutions against an ODE solve of the gradient flow and eigvalsh."""

import numpy as np

from spectral_bias.numerics import gradient_flow_ode
from spectral_bias.theory import (
    affine_dynamics,
    affine_rate_matrix,
    one_layer_weight,
    one_layer_weight_matrix,
    optimal_bias,
    optimal_weight_matrix,
    secular_rates,
)


def _problem(d=5, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((d, d))
    cov = a @ a.T / d
    return cov, rng.standard_normal(d), rng.standard_normal((d, d)) * 0.3, rng.standard_normal(d)


def test_non_aligned_weight_matrix_matches_ode():
    cov, _, w0, _ = _problem()
    tau = np.array([0.0, 0.05, 0.3, 2.0])
    W_ode, b_ode = gradient_flow_ode(cov, np.zeros(5), 0.6, tau, eta=0.7, w0=w0)
    W = one_layer_weight_matrix(cov, 0.6, tau, eta=0.7, w0=w0)
    # solve_ivp (Radau) with rtol 1e-11 / atol 1e-13 on O(1) entries
    assert np.max(np.abs(W - W_ode)) < 1e-9
    assert np.max(np.abs(b_ode)) < 1e-12  # no mean, no bias drive


def test_aligned_matrix_reduces_to_per_mode_weights():
    cov, *_ = _problem()
    lam, u = np.linalg.eigh(cov)
    W = one_layer_weight_matrix(cov, 0.4, 0.8, w0=0.3 * np.eye(5))
    assert np.allclose(u.T @ W @ u, np.diag(one_layer_weight(lam, 0.4, 0.8, q=0.3)), atol=1e-13)


def test_affine_dynamics_matches_ode_and_converges_to_optimum():
    cov, mu, w0, b0 = _problem(seed=1)
    tau = np.array([0.0, 0.1, 0.5, 3.0])
    W, b = affine_dynamics(cov, mu, 0.5, tau, eta=0.9, w0=w0, b0=b0)
    W_ode, b_ode = gradient_flow_ode(cov, mu, 0.5, tau, eta=0.9, w0=w0, b0=b0)
    # Radau with rtol 1e-11 / atol 1e-13 on O(1) entries
    assert np.max(np.abs(W - W_ode)) < 1e-8 and np.max(np.abs(b - b_ode)) < 1e-8
    # the slowest rate 2ην_min is set by the smallest eigenvalue of M; run long enough for exp(-2ητν_min) < 1e-14
    t_end = 40.0 / (2 * 0.9 * np.linalg.eigvalsh(affine_rate_matrix(cov, mu, 0.5))[0])
    W_end, b_end = affine_dynamics(cov, mu, 0.5, t_end, eta=0.9, w0=w0, b0=b0)
    assert np.allclose(W_end, optimal_weight_matrix(cov, 0.5), atol=1e-10)
    assert np.allclose(b_end, optimal_bias(cov, mu, 0.5), atol=1e-10)


def test_secular_equation_roots_are_eigenvalues_of_rate_matrix():
    for seed in range(3):
        cov, mu, *_ = _problem(d=6, seed=seed)
        nu = secular_rates(cov, mu, 0.3)
        ref = np.linalg.eigvalsh(affine_rate_matrix(cov, mu, 0.3))
        assert np.max(np.abs(nu - ref) / ref) < 1e-10


def test_modes_orthogonal_to_mean_keep_their_rate():
    lam = np.array([2.0, 1.0, 0.5, 0.1])
    cov = np.diag(lam)
    mu = np.array([0.0, 1.5, 0.0, 0.7])  # only modes 1 and 3 couple to the bias
    nu = secular_rates(cov, mu, 0.2)
    for k in (0, 2):
        assert np.min(np.abs(nu - (lam[k] + 0.04))) < 1e-14
    ref = np.linalg.eigvalsh(affine_rate_matrix(cov, mu, 0.2))
    assert np.max(np.abs(nu - ref)) < 1e-12


def test_repeated_eigenvalues_are_deflated():
    cov = np.diag([1.0, 1.0, 1.0, 0.2])
    mu = np.array([0.5, 0.5, 0.0, 1.0])
    nu = secular_rates(cov, mu, 0.1)
    assert np.max(np.abs(nu - np.linalg.eigvalsh(affine_rate_matrix(cov, mu, 0.1)))) < 1e-12
