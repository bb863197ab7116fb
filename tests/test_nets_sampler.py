"""Heun sampler with the exact optimal Gaussian denoiser against the exact probability-flow map."""

import numpy as np
import pytest
import torch

from spectral_bias.nets import edm_sigma_steps, heun_sample, heun_sample_batched


def _gaussian(d=4, seed=0):
    rng = np.random.default_rng(seed)
    lam = np.array([4.0, 1.0, 0.25, 0.01])[:d]
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    mu = rng.standard_normal(d) * 0.3
    return lam, U, mu


def _optimal_denoiser(lam, U, mu):
    """D*(x; σ) = μ + U diag(λ/(λ+σ²)) Uᵀ (x − μ)  (eq. 3)."""
    U_t, mu_t, lam_t = (torch.from_numpy(a) for a in (U, mu, lam))

    def D(x, s):
        return mu_t + ((x - mu_t) @ U_t * (lam_t / (lam_t + s**2))) @ U_t.T

    return D


def test_schedule_endpoints_and_errors():
    s = edm_sigma_steps(20, 0.002, 80.0, 7.0)
    assert s.shape == (21,) and s[0] == pytest.approx(80.0) and s[-2] == pytest.approx(0.002) and s[-1] == 0
    assert torch.all(s[1:] < s[:-1])
    with pytest.raises(ValueError, match="sigma_min"):
        edm_sigma_steps(10, 1.0, 0.5)
    with pytest.raises(ValueError, match="num_steps"):
        edm_sigma_steps(1)
    with pytest.raises(ValueError, match="rho"):
        edm_sigma_steps(10, rho=-1.0)


def test_heun_with_optimal_denoiser_reproduces_exact_flow_and_covariance():
    lam, U, mu = _gaussian()
    D = _optimal_denoiser(lam, U, mu)
    n, smax = 8_000, 80.0
    z = torch.randn(n, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = torch.cat(list(heun_sample_batched(D, z, edm_sigma_steps(160, 0.002, smax), batch_size=3000))).numpy()
    # Exact PF-ODE map for D*: mode k of (x − μ) scales by sqrt((λ+σ²)/(λ+σ_max²)) from σ_max to σ, so at σ=0
    # x − μ = sqrt(λ/(λ+σ_max²)) · (σ_max z − μ) in the eigenbasis (derived by hand from eq. 1).
    y0 = (smax * z.numpy() - mu) @ U
    exact = mu + (y0 * np.sqrt(lam / (lam + smax**2))) @ U.T
    # discretisation error of 160 Heun steps, relative to each mode's scale √λ. Measured: 2.5e-3 at 160 steps,
    # 1.2e-2 at 80, 5.5e-2 at 40 (the error falls 4× per doubling: 2nd order, see the next test), so 4e-3.
    err = np.abs((x - exact) @ U) / np.sqrt(lam)
    assert err.max() < 4e-3
    # the sample covariance along u_k matches the exact generated variance σ_max² λ/(λ+σ_max²) within the
    # sampling error of a variance from n samples (relative sd sqrt(2/n) = 0.016; 4 sd)
    gv = np.var((x - x.mean(0)) @ U, axis=0, ddof=1)
    target = smax**2 * lam / (lam + smax**2)
    assert np.all(np.abs(gv / target - 1) < 4 * np.sqrt(2 / n))
    # and the whole covariance, off-diagonals included, is diagonal in U (|corr| ~ 1/√n)
    C = np.cov(((x - x.mean(0)) @ U).T)
    corr = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
    assert np.max(np.abs(corr - np.eye(4))) < 4 / np.sqrt(n)


def test_heun_converges_second_order():
    # doubling the number of steps reduces the error about 4× (Heun is 2nd order) in the mid range
    lam, U, mu = _gaussian()
    D = _optimal_denoiser(lam, U, mu)
    z = torch.randn(200, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y0 = (80.0 * z.numpy() - mu) @ U
    exact = mu + (y0 * np.sqrt(lam / (lam + 80.0**2))) @ U.T
    errs = [np.abs(heun_sample(D, z, edm_sigma_steps(n)).numpy() - exact).max() for n in (16, 32, 64)]
    assert errs[1] < errs[0] / 2.5 and errs[2] < errs[1] / 2.5


def test_batched_matches_unbatched_and_errors():
    lam, U, mu = _gaussian()
    D = _optimal_denoiser(lam, U, mu)
    z = torch.randn(50, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    s = edm_sigma_steps(8)
    a = heun_sample(D, z, s)
    b = torch.cat(list(heun_sample_batched(D, z, s, batch_size=16)))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="batch_size"):
        list(heun_sample_batched(D, z, s, batch_size=0))
    with pytest.raises(ValueError, match="sigmas"):
        heun_sample(D, z, torch.tensor([1.0]))
