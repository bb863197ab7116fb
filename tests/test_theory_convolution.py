"""Circular convolutional denoisers (Props. 5.2-5.4): Fourier/patch closed forms vs tap-space gradient flow and a
PF-ODE sampler run in pixel space."""

import numpy as np
import pytest

from spectral_bias.numerics import filter_matrix, heun_sampler_linear, optimal_taps, shift_matrices, tap_gradient_flow
from spectral_bias.theory import (
    circulant_generated_variance,
    circulant_weight,
    fourier_variances,
    fourier_variances_from_samples,
    patch_covariance,
    patch_filter,
    patch_gains,
    patch_generated_variance,
    patch_offsets,
    shift_averaged_covariance,
)

SMIN, SMAX = 0.002, 80.0


def _nonstationary_cov(d, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d)) * np.linspace(0.3, 1.5, d)  # position-dependent scales: not shift-invariant
    return A @ A.T / d


def _gains_from_taps_direct(taps, shape, offsets):
    """gamma_k = e_k^* W e_k computed with explicit Fourier vectors (independent of the theory's cosine sum)."""
    B = shift_matrices(shape, offsets)
    W = filter_matrix(taps, B)
    idx = np.indices(shape).reshape(len(shape), -1).T
    k = idx
    E = np.exp(2j * np.pi * (idx / np.array(shape)) @ k.T) / np.sqrt(len(idx))  # columns e_k
    return np.einsum("ik,ij,jk->k", E.conj(), W, E).reshape(shape)


def test_fourier_variances_match_explicit_dft_matrix_and_shift_average():
    N = 6
    cov = _nonstationary_cov(N)
    F = np.exp(-2j * np.pi * np.outer(np.arange(N), np.arange(N)) / N) / np.sqrt(N)
    np.testing.assert_allclose(fourier_variances(cov, N), np.diag(F.conj().T @ cov @ F).real, atol=1e-13)
    # eigenvalues of the covariance of all circular shifts of the data (built by explicit rolling)
    S = np.roll(np.eye(N), 1, axis=0)
    sbar = sum(np.linalg.matrix_power(S, s) @ cov @ np.linalg.matrix_power(S, s).T for s in range(N)) / N
    np.testing.assert_allclose(shift_averaged_covariance(fourier_variances(cov, N)), sbar, atol=1e-13)


def test_fourier_variances_from_samples_2d():
    rng = np.random.default_rng(1)
    H, W = 4, 5
    cov = _nonstationary_cov(H * W, seed=2)
    x = rng.multivariate_normal(np.zeros(H * W), cov, size=4000)
    emp_cov = np.cov(x.T, bias=True)
    np.testing.assert_allclose(
        fourier_variances_from_samples(x.reshape(-1, H, W)), fourier_variances(emp_cov, (H, W)), rtol=1e-10
    )


def test_circulant_gains_match_gradient_flow_on_all_N_taps_nonstationary():
    N = 8
    cov = _nonstationary_cov(N, seed=3)
    lam_f = fourier_variances(cov, N)
    offs = np.arange(N)[:, None]
    B = shift_matrices((N,), offs)
    q, eta, times = 0.1, 0.3, np.array([0.0, 0.02, 0.2, 1.0])
    for sigma in (0.2, 1.5):
        w0 = q * (offs[:, 0] == 0)
        taps = tap_gradient_flow(cov, sigma, B, w0, times, eta=eta)
        got = np.array([_gains_from_taps_direct(t, (N,), offs) for t in taps])
        assert np.max(np.abs(got.imag)) < 1e-12
        pred = circulant_weight(lam_f, sigma, times, eta=eta, q=q)
        # RK4 with 100 steps per fastest scale: error ~1e-12; rate is N times the dense one (factor N = 8 here)
        np.testing.assert_allclose(got.real, pred, atol=1e-10)


def test_converged_circulant_generates_the_shift_augmented_gaussian():
    # pixel space, non-stationary data: optimal N-tap filter per sigma (tap least squares), Heun PF-ODE sampler
    N = 6
    rng = np.random.default_rng(4)
    x = rng.normal(size=(500, N)) @ np.linalg.cholesky(_nonstationary_cov(N, seed=5)).T
    second = x.T @ x / len(x)  # (uncentred) second moment of the training set
    aug = np.concatenate([np.roll(x, s, axis=1) for s in range(N)])  # all circular shifts
    aug_second = aug.T @ aug / len(aug)
    B = shift_matrices((N,), np.arange(N)[:, None])
    den = lambda s: filter_matrix(optimal_taps(second, s, B), B)
    out = heun_sampler_linear(den, x_init=SMAX * np.eye(N), n_steps=800)
    gen_cov = out.T @ out  # rows are A^T columns scaled by SMAX: SMAX^2 A A^T
    # converged theory: F diag(SMAX^2 (lamF + SMIN^2)/(lamF + SMAX^2)) F^*, lamF from the augmented data
    mu, V = np.linalg.eigh(aug_second)
    expected = (V * SMAX**2 * (mu + SMIN**2) / (mu + SMAX**2)) @ V.T
    # Heun is O(h^2): max error 4e-4 at 200 EDM steps, 2.5e-5 at 800, 1.5e-6 at 3200 (measured); allow 1e-4
    np.testing.assert_allclose(gen_cov, expected, atol=1e-4 * np.abs(expected).max())
    lam_f = fourier_variances_from_samples(x, center=False)
    np.testing.assert_allclose(
        circulant_generated_variance(lam_f, 1e9), np.sort(mu)[np.argsort(np.argsort(lam_f))], rtol=1e-3
    )  # truncation SMIN/SMAX: (lam + 4e-6)/(1 + lam/6400) ~ 1e-3 relative


@pytest.mark.parametrize("shape, patch", [((12,), 3), ((12,), 5), ((5, 5), 3)])
def test_patch_filter_matches_gradient_flow_on_K_taps(shape, patch):
    d = int(np.prod(shape))
    cov = _nonstationary_cov(d, seed=6)
    lam_f = fourier_variances(cov, shape)
    offs = patch_offsets(patch, len(shape))
    B = shift_matrices(shape, offs)
    q, eta, times = 0.2, 0.1, np.array([0.0, 0.05, 0.5, 3.0])
    for sigma in (0.3, 2.0):
        w0 = q * np.all(offs == 0, axis=1)
        taps = tap_gradient_flow(cov, sigma, B, w0, times, eta=eta)
        pred = patch_filter(lam_f, patch, sigma, times, eta=eta, q=q)
        np.testing.assert_allclose(taps, pred, atol=1e-10)
        # gains = DFT of the zero-padded filter, vs explicit Fourier vectors on the pixel-space matrix
        got = np.array([_gains_from_taps_direct(t, shape, offs) for t in taps])
        np.testing.assert_allclose(got.real, patch_gains(lam_f, patch, sigma, times, eta=eta, q=q), atol=1e-10)
        assert np.max(np.abs(got.imag)) < 1e-12


def test_patch_covariance_equals_position_averaged_patch_second_moment():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3000, 9)) @ np.linalg.cholesky(_nonstationary_cov(9, seed=8)).T
    P = 3
    patches = np.stack([np.roll(x, -o, axis=1) for o in (-1, 0, 1)], axis=-1)  # p_i = (x_{i-1}, x_i, x_{i+1})
    emp = np.einsum("nik,nil->kl", patches, patches) / (x.shape[0] * x.shape[1])
    np.testing.assert_allclose(patch_covariance(fourier_variances_from_samples(x, center=False), P), emp, atol=1e-12)


def test_full_width_patch_equals_circulant():
    lam_f = fourier_variances(_nonstationary_cov(7, seed=9), 7)
    s, t = np.array([0.1, 1.0, 5.0])[:, None], np.array([0.0, 0.3, 2.0])[:, None]
    np.testing.assert_allclose(patch_gains(lam_f, 7, s, t, q=0.2), circulant_weight(lam_f, s, t, q=0.2), atol=1e-12)


def test_patch_generated_variance_matches_pixel_space_sampler():
    N, P, q, eta = 8, 3, 0.1, 0.05
    lam_f = fourier_variances(_nonstationary_cov(N, seed=10), N)
    offs = patch_offsets(P, 1)
    B = shift_matrices((N,), offs)
    for tau in (0.5, 20.0):
        den = lambda s: filter_matrix(patch_filter(lam_f, P, s, tau, eta=eta, q=q), B)
        out = heun_sampler_linear(den, x_init=SMAX * np.eye(N), n_steps=800)
        gen = fourier_variances(out.T @ out, N)
        # Heun converges to the quadrature at O(h^2): relative error 1.4e-3, 3.5e-4, 8.7e-5, 2.2e-5 at
        # 400, 800, 1600, 3200 steps (measured, tau = 0.5); the quadrature itself is converged to 1e-13
        np.testing.assert_allclose(patch_generated_variance(lam_f, P, tau, eta=eta, q=q), gen, rtol=5e-4)


@pytest.mark.parametrize(
    "call, exc, word",
    [
        (lambda: patch_covariance(np.ones(8), 4), ValueError, "odd"),
        (lambda: patch_covariance(np.ones(8), 9), ValueError, "wider"),
        (lambda: patch_covariance(np.ones((4, 4)), 5), ValueError, "wider"),
        (lambda: patch_covariance(np.ones(8), 3.0), TypeError, "patch"),
        (lambda: patch_filter(-np.ones(8), 3, 1.0, 1.0), ValueError, "lam_f"),
        (lambda: patch_filter(np.ones(8), 3, 1.0, 1.0, eta=0), ValueError, "eta"),
        (lambda: circulant_weight(np.array([1.0, np.nan]), 1.0, 1.0), ValueError, "lam_f"),
        (lambda: circulant_weight(np.ones(4), -1.0, 1.0), ValueError, "sigma"),
        (lambda: circulant_generated_variance(np.ones(4), -1.0), ValueError, "tau"),
        (lambda: fourier_variances(np.eye(5), 4), ValueError, "cov"),
        (lambda: fourier_variances(np.eye(4), (2, 2.5)), TypeError, "shape"),
        (lambda: fourier_variances(np.triu(np.ones((4, 4))), 4), ValueError, "symmetric"),
        (lambda: fourier_variances_from_samples(np.ones((1, 4))), ValueError, "x"),
    ],
)
def test_convolution_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_circulant_2d_gains_match_gradient_flow_on_all_taps():
    shape = (3, 4)
    d = 12
    cov = _nonstationary_cov(d, seed=12)
    lam_f = fourier_variances(cov, shape)
    offs = np.stack(np.meshgrid(np.arange(3), np.arange(4), indexing="ij"), -1).reshape(-1, 2)
    B = shift_matrices(shape, offs)
    times = np.array([0.0, 0.03, 0.3])
    taps = tap_gradient_flow(cov, 0.4, B, 0.1 * np.all(offs == 0, axis=1), times, eta=0.2)
    got = np.array([_gains_from_taps_direct(t, shape, offs) for t in taps])
    # 2-D: rate multiplied by N = H W = 12; RK4 error ~1e-12
    np.testing.assert_allclose(got.real, circulant_weight(lam_f, 0.4, times, eta=0.2, q=0.1), atol=1e-10)
