"""theory.heun_generated_variance: the discrete Heun sampler's generated variance for a per-mode linear
denoiser, checked against an actual sampler (numerics.heun_sampler_linear) and, as the steps refine, against
the continuous closed form (Prop. 4.2) and the quadrature of Lemma 4.1."""

import numpy as np
import pytest

from spectral_bias import theory
from spectral_bias.numerics import heun_sampler_linear

LAM = np.array([10.0, 1.0, 0.1, 0.01, 1e-3])


@pytest.mark.parametrize("tau", [0.0, 0.3, 30.0])
@pytest.mark.parametrize("append_zero", [False, True])
def test_equals_the_linear_sampler_applied_to_a_unit_start(tau, append_zero):
    # The sampler is linear: starting every mode at x = σ_0 its output is σ_0 Π g, so the variance of the
    # Gaussian output is σ_0² (Π g)² exactly (independent implementation: numerics' Heun loop).
    sig = theory.edm_sigma_schedule(20, append_zero=append_zero)

    def den(s):
        return theory.preconditioned_weight(LAM, s, tau)

    x = heun_sampler_linear(den, x_init=np.full((1, LAM.size), sig[0]), sigmas=sig)[0]
    got = theory.heun_generated_variance(theory.preconditioned_weight, LAM, tau, sig)
    np.testing.assert_allclose(got, x**2, rtol=1e-12)


def test_matches_sampled_variance():
    sig = theory.edm_sigma_schedule(20, append_zero=True)
    n = 40_000
    x = heun_sampler_linear(
        lambda s: theory.preconditioned_weight(LAM, s, 3.0), n_samples=n, dim=LAM.size, sigmas=sig, seed=1
    )
    got = theory.heun_generated_variance(theory.preconditioned_weight, LAM, 3.0, sig)
    # sample variance of n Gaussian draws: relative standard error sqrt(2/(n-1)) = 0.7 %; allow 4.5 of them
    np.testing.assert_allclose(x.var(0, ddof=1), got, rtol=4.5 * np.sqrt(2 / (n - 1)))


def test_refined_schedule_tends_to_prop_4_2_and_lemma_4_1():
    tau = np.array([0.0, 0.1, 1.0, 10.0])[:, None]
    fine = theory.edm_sigma_schedule(4000)
    one = theory.heun_generated_variance(theory.one_layer_weight, LAM, tau, fine, eta=1.0, q=0.1)
    ref = theory.one_layer_generated_variance(LAM, tau, eta=1.0, q=0.1)
    # Heun is second order: max relative error 2.0e-4 at N = 1000 and 1.3e-5 at N = 4000 (16x for 4x steps)
    np.testing.assert_allclose(one, ref, rtol=2e-5)
    pre = theory.heun_generated_variance(theory.preconditioned_weight, LAM, tau, fine)
    np.testing.assert_allclose(pre, theory.preconditioned_generated_variance(LAM, tau), rtol=2e-5)


def test_final_step_to_zero_multiplies_by_the_last_weight_squared():
    tau = np.array([0.0, 1.0, 100.0])[:, None]
    s = theory.edm_sigma_schedule(20)
    z = theory.edm_sigma_schedule(20, append_zero=True)
    a = theory.heun_generated_variance(theory.preconditioned_weight, LAM, tau, s)
    b = theory.heun_generated_variance(theory.preconditioned_weight, LAM, tau, z)
    w = theory.preconditioned_weight(LAM, s[-1], tau)
    np.testing.assert_allclose(b, a * w**2, rtol=1e-12)


@pytest.mark.parametrize("sigmas", [[80.0], [1.0, 2.0], [80.0, 0.0, 0.0], [[80.0, 1.0]], [80.0, np.nan]])
def test_bad_schedule(sigmas):
    with pytest.raises(ValueError, match="sigmas"):
        theory.heun_generated_variance(theory.one_layer_weight, 1.0, 1.0, sigmas)


def test_heun_sampler_sigmas_is_the_edm_schedule_then_zero():
    from spectral_bias.theory.schedule import heun_sampler_sigmas

    sig = heun_sampler_sigmas(5, 7.0, 0.002, 80.0)
    rho, i = 7.0, np.arange(5) / 4
    expect = (80.0 ** (1 / rho) + i * (0.002 ** (1 / rho) - 80.0 ** (1 / rho))) ** rho  # EDM eq. 5, by hand
    assert sig.shape == (6,) and sig[-1] == 0.0 and sig[0] == 80.0 and sig[4] == 0.002
    np.testing.assert_allclose(sig[:5], expect, rtol=1e-13)
    with pytest.raises(ValueError, match="sampler_steps"):
        heun_sampler_sigmas(1, 7.0, 0.002, 80.0)
    with pytest.raises(ValueError, match="rho"):
        heun_sampler_sigmas(5, -1.0, 0.002, 80.0)
