"""Convolutional linear theories under the EDM protocol (chapter 10): gains, the Heun-sampled generated
spectrum, and its projection on an arbitrary basis, each against an independent computation."""

import numpy as np
import pytest

from spectral_bias import theory
from spectral_bias.numerics import heun_sampler_linear

SHAPE = (6, 6)
RNG = np.random.default_rng(3)
X = RNG.standard_normal((400,) + SHAPE).cumsum(1).cumsum(2) * 0.2  # smooth, anisotropic toy "images"
LAM_F = theory.fourier_variances_from_samples(X)


@pytest.mark.parametrize("sigma,tau", [(0.05, 0.0), (0.3, 0.02), (2.0, 1.0), (0.01, 50.0)])
def test_patch_gains_are_prop_5_4_with_c_skip_start_and_effective_rate(sigma, tau):
    # Chapter 8's identity: preconditioned training = plain training with q = c_skip(σ), η = η_eff(σ)
    c_skip, _, _ = theory.edm_preconditioning(sigma)
    eta_eff = float(theory.edm_effective_learning_rate(sigma))
    got = theory.patch_gains_preconditioned(LAM_F, 3, sigma, tau)
    ref = theory.patch_gains(LAM_F, 3, sigma, tau, eta=eta_eff, q=float(c_skip))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    ref_c = theory.circulant_weight(LAM_F, sigma, tau, eta=eta_eff, q=float(c_skip))
    np.testing.assert_allclose(theory.circulant_gains_preconditioned(LAM_F, sigma, tau), ref_c, rtol=1e-12)


def test_untrained_filter_is_c_skip_times_identity():
    g = theory.patch_gains_preconditioned(LAM_F, 5, 0.7, 0.0)
    np.testing.assert_allclose(g, theory.edm_preconditioning(0.7)[0], rtol=1e-12)


def _circulant(gains):
    """F diag(g) F^* as an explicit real d x d matrix: entry (i, j) = c(j - i), c = inverse DFT of the gains."""
    c = np.fft.ifftn(gains).real
    idx = np.indices(SHAPE).reshape(2, -1)
    diff = (idx[:, None, :] - idx[:, :, None]) % np.array(SHAPE)[:, None, None]
    return c[tuple(diff)]


@pytest.mark.parametrize("tau", [0.0, 0.05, 3.0])
def test_heun_generated_spectrum_in_a_basis_equals_the_matrix_sampler(tau):
    # generated covariance from the d x d linear sampler (unit start per coordinate), projected on the data PCs
    sig = theory.edm_sigma_schedule(12, append_zero=True)
    d = int(np.prod(SHAPE))
    xc = X.reshape(len(X), -1) - X.reshape(len(X), -1).mean(0)
    lam, U = np.linalg.eigh(xc.T @ xc / (len(X) - 1))
    out = heun_sampler_linear(
        lambda s: _circulant(theory.patch_gains_preconditioned(LAM_F, 3, s, tau)), x_init=sig[0] * np.eye(d), sigmas=sig
    )
    cov = out.T @ out  # Σ_gen = σ0² Πᵀ... : rows of out are the images of σ0 e_i
    ref = np.einsum("ik,ij,jk->k", U, cov, U)
    gv_f = theory.heun_generated_variance_from_gains(lambda s: theory.patch_gains_preconditioned(LAM_F, 3, s, tau), sig)
    np.testing.assert_allclose(theory.basis_variances_from_fourier(gv_f, U), ref, rtol=1e-9)


def test_basis_projection_checks_sizes():
    with pytest.raises(ValueError, match="basis"):
        theory.basis_variances_from_fourier(np.ones(SHAPE), np.eye(5))
