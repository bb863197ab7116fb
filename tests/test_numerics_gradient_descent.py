"""Explicit gradient descent on actual samples against the closed forms, and Gaussian equivalence on MNIST."""

from pathlib import Path

import numpy as np
import pytest

from spectral_bias.numerics import gd_affine_denoiser
from spectral_bias.theory import affine_dynamics, affine_rate_matrix, one_layer_weight

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "mnist_1k.npz"


def _moments(x):
    m = x.mean(0)
    return (x - m).T @ (x - m) / x.shape[0], m  # population (1/n) moments: what the full-batch loss sees


def _gd_bound(cov, mean, sigma, eta, h, w0, b0):
    """Max Frobenius error of GD vs gradient flow at equal τ = n h.

    In the eigenbasis of M each mode contracts by (1 - x)^n instead of e^{-nx}, x = 2ηhν; for x <= 1/2,
    |(1-x)^n - e^{-nx}| <= e^{-nx} n x²/(2(1-x)) <= x/(2e(1-x)). Times the initial distance to the optimum."""
    nu_max = np.linalg.eigvalsh(affine_rate_matrix(cov, mean, sigma))[-1]
    x = 2 * eta * h * nu_max
    assert x <= 0.5
    Wi, bi = affine_dynamics(cov, mean, sigma, 1e12, eta=eta)  # the optimum
    dist = np.sqrt(np.sum((w0 - Wi) ** 2) + np.sum((b0 - bi) ** 2))
    return dist * x / (2 * np.e * (1 - x))


def test_gd_on_samples_matches_affine_closed_form_within_discretisation_bound():
    rng = np.random.default_rng(0)
    d, n = 6, 500
    x = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) * 0.5 + rng.standard_normal(d)
    cov, m = _moments(x)
    sigma, eta, h, steps = 0.4, 1.0, 2e-3, 3000
    w0, b0 = 0.1 * np.eye(d), np.zeros(d)
    tr = gd_affine_denoiser(
        x, sigma, eta=eta, step_size=h, n_steps=steps, record_steps=[0, 100, 1000, 3000], w0=w0, b0=b0
    )
    W, b = affine_dynamics(cov, m, sigma, tr.tau, eta=eta, w0=w0, b0=b0)
    err = np.sqrt(np.sum((tr.W - W) ** 2, axis=(1, 2)) + np.sum((tr.b - b) ** 2, axis=1))
    bound = _gd_bound(cov, m, sigma, eta, h, w0, b0)
    assert np.all(err <= bound) and err.max() > 0.05 * bound  # the bound is tight to within ~20x, not vacuous
    # halving the step halves the error (first order in h)
    tr2 = gd_affine_denoiser(x, sigma, eta=eta, step_size=h / 2, n_steps=2 * steps, record_steps=[2000], w0=w0, b0=b0)
    err2 = np.sqrt(np.sum((tr2.W[0] - W[2]) ** 2) + np.sum((tr2.b[0] - b[2]) ** 2))
    assert err2 / err[2] == pytest.approx(0.5, abs=0.05)


def test_gd_per_mode_weight_matches_eq7_on_centred_aligned_data():
    lam = np.array([2.0, 0.5, 0.05])
    rng = np.random.default_rng(1)
    z = rng.standard_normal((4000, 3))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / 4000)).T  # exactly white sample
    x = z * np.sqrt(lam)  # sample covariance exactly diag(λ), mean exactly 0
    tr = gd_affine_denoiser(x, 0.3, step_size=1e-3, n_steps=2000, record_steps=[500, 2000], w0=0.2 * np.eye(3))
    w = one_layer_weight(lam, 0.3, tr.tau[:, None], q=0.2)
    # bound as above, per mode: |Δw| <= |Q - w*| x/(2e(1-x)) with x = 2ηh(λ_max + σ²)
    xmax = 2e-3 * (2.0 + 0.09)
    assert np.max(np.abs(np.diagonal(tr.W, axis1=1, axis2=2) - w)) <= 1.0 * xmax / (2 * np.e * (1 - xmax))
    assert np.max(np.abs(tr.W - np.einsum("ti,ij->tij", np.diagonal(tr.W, axis1=1, axis2=2), np.eye(3)))) < 1e-12


@pytest.fixture(scope="module")
def mnist_pcs():
    data = np.load(FIXTURE)
    x = data["images"].reshape(len(data["images"]), -1).astype(np.float64) / 127.5 - 1.0  # [-1, 1]
    cov, m = _moments(x)
    lam, u = np.linalg.eigh(cov)
    top = u[:, ::-1][:, :20]
    return x @ top  # coordinates on the top 20 PCs (not centred: the mean stays)


# σ = 0.5; the largest eigenvalue of M for these 20 PC coordinates (mean included) is ≈ 99, so h = 2e-3 keeps
# 2ηhν_max ≈ 0.4 < 1 (stable); 300 steps reach τ = 0.6, mid-way for most modes.
STEPS, H = 300, 2e-3


def _gd(x):
    return gd_affine_denoiser(x, 0.5, step_size=H, n_steps=STEPS, record_steps=[30, 100, STEPS])


def _gd_exact(cov, m, sigma, h, steps):
    """Discrete-time GD iterates from 0 in closed form: Θ_n = Θ*(I - (I - 2hM)^n), by eigendecomposition of M."""
    d = m.size
    M = affine_rate_matrix(cov, m, sigma)
    nu, v = np.linalg.eigh(M)
    C = np.hstack([cov + np.outer(m, m), m[:, None]])
    theta_star = C @ np.linalg.inv(M)
    out = [theta_star @ (np.eye(d + 1) - (v * (1 - 2 * h * nu) ** k) @ v.T) for k in steps]
    return np.array(out)


def test_gaussian_equivalence_exactly_matched_moments(mnist_pcs):
    x = mnist_pcs
    cov, m = _moments(x)
    rng = np.random.default_rng(2)
    g = rng.standard_normal((2000, x.shape[1]))
    g -= g.mean(0)
    g = g @ np.linalg.inv(np.linalg.cholesky(g.T @ g / g.shape[0])).T
    xg = m + g @ np.linalg.cholesky(cov).T  # 2000 Gaussian samples with MNIST's exact mean and covariance
    a, b = _gd(x), _gd(xg)
    # Lemma C.1: the full-batch GD iterates depend on the samples only through mean and covariance, so they
    # coincide up to floating-point rounding (relative 1e-9 after 1500 steps of a contraction)
    scale = np.abs(a.W).max()
    assert np.max(np.abs(a.W - b.W)) < 1e-9 * scale and np.max(np.abs(a.b - b.b)) < 1e-9 * max(1, np.abs(a.b).max())
    assert np.max(np.abs(a.loss - b.loss)) < 1e-9 * a.loss.max()


def test_gaussian_equivalence_iid_samples_within_finite_sample_error(mnist_pcs):
    x = mnist_pcs
    cov, m = _moments(x)
    n = 10_000
    xg = np.random.default_rng(3).multivariate_normal(m, cov, size=n)
    a, b = _gd(x), _gd(xg)
    covg, mg = _moments(xg)
    # The whole difference is explained by the sample moments of the Gaussian draw: the exact discrete-GD
    # iterates evaluated at the two sets of moments differ by exactly the same amount (rounding only).
    ta, tb = _gd_exact(cov, m, 0.5, H, a.steps), _gd_exact(covg, mg, 0.5, H, b.steps)
    d = x.shape[1]
    assert np.max(np.abs(a.W - ta[:, :, :d])) < 1e-10 and np.max(np.abs(b.W - tb[:, :, :d])) < 1e-10
    assert np.max(np.abs(a.b - ta[:, :, d])) < 1e-9 and np.max(np.abs(b.b - tb[:, :, d])) < 1e-9
    # and that moment mismatch is a finite-sample effect: the relative error of a d-dimensional covariance
    # estimated from n samples is ~ sqrt(d/n) ≈ 0.045 (d=20, n=1e4) in Frobenius norm; W inherits at most that
    rel = np.linalg.norm(a.W - b.W, axis=(1, 2)) / np.linalg.norm(a.W, axis=(1, 2))
    assert np.all(rel < 2 * np.sqrt(d / n)) and np.all(rel > 0)


def test_adam_step_matches_the_textbook_recursion():
    from spectral_bias.numerics.linear_training import _adam_step

    rng = np.random.default_rng(0)
    V = rng.normal(size=(2, 3, 3))
    V0 = V.copy()
    m1, m2 = np.zeros_like(V), np.zeros_like(V)
    ref, r1, r2 = V.copy(), np.zeros_like(V), np.zeros_like(V)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    for t in range(1, 6):
        grad = 2.0 * V  # gradient of ||V||²
        m1, m2 = _adam_step(V, grad, m1, m2, t, lr=lr, betas=(b1, b2), eps=eps)
        g = 2.0 * ref  # Kingma & Ba (2015), Algorithm 1, entry by entry
        r1 = [b1 * a + (1 - b1) * b for a, b in zip(r1.ravel(), g.ravel())]
        r2 = [b2 * a + (1 - b2) * b * b for a, b in zip(r2.ravel(), g.ravel())]
        step = [lr * (a / (1 - b1**t)) / ((b / (1 - b2**t)) ** 0.5 + eps) for a, b in zip(r1, r2)]
        ref = ref - np.reshape(step, ref.shape)
        r1, r2 = np.reshape(r1, ref.shape), np.reshape(r2, ref.shape)
        np.testing.assert_allclose(V, ref, rtol=1e-13, atol=1e-15)
    assert np.all(np.abs(V) < np.abs(V0))  # every entry moved towards the minimum at 0
