"""Chapter 12: a linear denoiser trained on n samples (eq. F), against explicit gradient descent on the samples at
every noise level of the sampler and the matrix Heun covariance."""

import numpy as np
import pytest

from spectral_bias import theory
from spectral_bias.numerics import gd_affine_denoiser, heun_generated_covariance


@pytest.mark.parametrize("n", [12, 3])
def test_generated_variance_along_population_modes_matches_gd_on_samples(n):
    """n = 3 < d = 4: one direction has no data and is never learned; eq. F must still hold."""
    d, q = 4, 0.1
    lam = np.array([1.5, 0.4, 0.05, 0.01])
    rng = np.random.default_rng(7)
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    x = rng.standard_normal((n, d)) * np.sqrt(lam) @ U.T
    sched = theory.edm_sigma_schedule(6, 0.002, 4.0, 7, append_zero=True)
    h, steps = 2e-4, 2500  # gradient-flow time 0.5
    Ws = np.stack(
        [
            gd_affine_denoiser(x, s, step_size=h, n_steps=steps, w0=q * np.eye(d), fit_bias=False).W[-1]
            for s in sched[:-1]
        ]
    )
    C = heun_generated_covariance(Ws, sched)
    ref = np.einsum("ak,ab,bk->k", U, C, U)
    got = theory.finite_sample_generated_variance(x, [h * steps], U, q=q, sampler_steps=6, sigma_max=4.0)[:, 0]
    np.testing.assert_allclose(got, ref, rtol=5e-3)


def test_many_samples_recover_the_population_and_converged_limit_is_the_sample_variance():
    lam = np.array([2.0, 0.2, 0.02])
    rng = np.random.default_rng(8)
    tau = np.array([0.0, 3.0, 1e6])
    x = rng.standard_normal((200_000, 3)) * np.sqrt(lam)
    got = theory.finite_sample_generated_variance(x, tau, np.eye(3))
    pop = theory.one_layer_generated_variance(lam[:, None], tau, q=0.1)
    np.testing.assert_allclose(got, pop, rtol=2e-2)
    # converged, along any unit vector u the model generates ≈ uᵀ Ŝ u (the continuous PF-ODE stops at σ_min)
    x = rng.standard_normal((20, 3)) * np.sqrt(lam)
    u = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    g = theory.finite_sample_generated_variance(x, [1e7], u)[:, 0]
    S = x.T @ x / 20
    np.testing.assert_allclose(g, np.einsum("ak,ab,bk->k", u, S, u), rtol=1e-3)


def test_empirical_spectrum_and_bad_input():
    vals, vecs = theory.empirical_spectrum(np.array([[1.0, 0.0], [0.0, 2.0]]))
    np.testing.assert_allclose(vals, [2.0, 0.5])
    with pytest.raises(ValueError, match="basis"):
        theory.finite_sample_generated_variance(np.ones((5, 3)), [1.0], np.eye(2))
    with pytest.raises(ValueError, match="model"):
        theory.finite_sample_generated_variance(np.ones((5, 3)), [1.0], np.eye(3), model="deep")
    with pytest.raises(ValueError, match="x"):
        theory.empirical_spectrum(np.ones(4))
