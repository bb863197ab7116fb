"""Generated variance of Prop. 4.2 against an actual Heun PF-ODE sampler with the trained linear denoiser."""

import numpy as np
import pytest

from spectral_bias.numerics import heun_sampler_linear
from spectral_bias.theory import edm_sigma_schedule, one_layer_generated_variance, one_layer_weight

LAM = np.array([10.0, 1.0, 0.1, 0.01, 1e-3])


def test_edm_schedule_endpoints_and_rho_spacing():
    s = edm_sigma_schedule(18)
    assert s[0] == 80.0 and s[-1] == 0.002 and np.all(np.diff(s) < 0)
    # σ^{1/ρ} is equally spaced by construction (Karras et al. eq. 5)
    assert np.allclose(np.diff(np.diff(s ** (1 / 7))), 0.0, atol=1e-12)
    assert edm_sigma_schedule(5, append_zero=True)[-1] == 0.0


def _heun_variance(n_steps, tau, q):
    den = lambda s: one_layer_weight(LAM, s, tau, q=q)
    # the sampler is linear, so running it on σ_max times the unit vectors gives the per-mode gain exactly
    x = heun_sampler_linear(den, x_init=80.0 * np.eye(LAM.size), n_steps=n_steps)
    return np.diag(x) ** 2


@pytest.mark.parametrize("tau,q", [(3.0, 0.1), (0.05, 0.5), (100.0, 0.0)])
def test_heun_converges_at_second_order_to_closed_form(tau, q):
    cf = one_layer_generated_variance(LAM, tau, q=q)
    e1 = _heun_variance(200, tau, q) / cf - 1
    e2 = _heun_variance(400, tau, q) / cf - 1
    # Heun's global error is O(N^-2): doubling N divides the error by ~4 ...
    big = np.abs(e1) > 1e-6
    assert np.all(np.abs(e2[big] / e1[big] - 0.25) < 0.05)
    # ... and Richardson extrapolation removes the N^-2 term: the remainder is higher order (< 1e-4 here,
    # against 3e-3 before extrapolation)
    assert np.max(np.abs((4 * e2 - e1) / 3)) < 1e-4


def test_sample_covariance_matches_prop_4_2_in_a_rotated_basis_with_mean():
    rng = np.random.default_rng(0)
    d, n, tau, q = LAM.size, 20_000, 2.0, 0.1
    u = np.linalg.qr(rng.standard_normal((d, d)))[0]
    mu = rng.standard_normal(d)

    def den(s):  # full-matrix W_σ = U diag(w) Uᵀ with bias b = (I - W)μ: mean is carried exactly
        w = one_layer_weight(LAM, s, tau, q=q)
        W = (u * w) @ u.T
        return W, mu - W @ mu

    x = heun_sampler_linear(den, n, d, n_steps=400, seed=1)
    gen = np.var((x - x.mean(0)) @ u, axis=0)
    cf = one_layer_generated_variance(LAM, tau, q=q)
    # sampling: a variance estimated from n Gaussian samples has relative sd sqrt(2/n) = 1%; Heun with 400
    # steps adds < 1.5e-3 (see the convergence test). Allow 4.5 sd.
    assert np.max(np.abs(gen / cf - 1)) < 4.5 * np.sqrt(2 / n) + 1.5e-3
    # the generated mean: x_T has zero mean and m - μ obeys the same linear ODE as x, so the mean is (I - A)μ
    # with the per-mode gain A = sqrt(λ̂)/σ_max in the eigenbasis; sampling sd of a mean is sqrt(λ̂/n)
    a = np.sqrt(cf) / 80.0
    mean_coords = (x.mean(0)) @ u
    expected = (1 - a) * (mu @ u)
    assert np.max(np.abs(mean_coords - expected) / np.sqrt(cf / n)) < 4.5
