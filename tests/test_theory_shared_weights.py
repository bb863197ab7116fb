"""Chapter 12: the linear denoiser with weights shared across noise levels (eq. S), its generated variance, the
explicit GD/Adam trainer and the matrix Heun covariance, each against an independent computation."""

import numpy as np
import pytest

from spectral_bias import theory
from spectral_bias.numerics import (
    heun_generated_covariance,
    heun_sampler_linear,
    train_preconditioned_linear,
    weights_at_nodes,
)

SD = 0.5


def _trapezoid_nodes(n=161, zmax=7.0):
    """Noise levels and weights of a trapezoid rule in z = (ln σ + 1.2)/1.2 for E over ln σ ~ N(-1.2, 1.2²):
    a different quadrature from the Gauss–Hermite rule inside the theory."""
    z = np.linspace(-zmax, zmax, n)
    w = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi) * (z[1] - z[0])
    w[[0, -1]] *= 0.5
    return np.exp(-1.2 + 1.2 * z), w, z


def _samples_with_second_moment(cov, n, seed):
    """n samples whose second moment XᵀX/n equals ``cov`` exactly (whitened Gaussian draws, then coloured)."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, cov.shape[0]))
    L = np.linalg.cholesky(g.T @ g / n)
    white = g @ np.linalg.inv(L).T
    vals, vecs = np.linalg.eigh(cov)
    return white @ (vecs * np.sqrt(vals)) @ vecs.T


@pytest.mark.parametrize("n_features", [1, 2])
def test_shared_weight_matches_gradient_descent_on_samples_of_rotated_data(n_features):
    """GD on the full d x d inner matrices, gradient from the residuals of 40 samples of rotated data, a trapezoid
    rule over σ; the theory is per mode, Gauss–Hermite over σ, closed-form exponential in τ."""
    lam = np.array([2.0, 0.3, 0.02])
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    x = _samples_with_second_moment(U @ np.diag(lam) @ U.T, 40, 1)
    sig, om, z = _trapezoid_nodes()
    phi = np.polynomial.hermite_e.hermevander(z, n_features - 1)
    lr, steps = 2e-4, [0, 500, 2500, 10000]
    tr = train_preconditioned_linear(x, sig, om, phi, optimizer="gd", lr=lr, n_steps=steps[-1], record_steps=steps)
    probe = np.array([0.01, 0.2, 1.0, 5.0])
    W = weights_at_nodes(tr.V, probe, theory.noise_features(probe, n_features))  # (R, 4, 3, 3)
    W_modes = np.einsum("ak,rjab,bl->rjkl", U, W, U)  # in the data eigenbasis
    for r, tau in enumerate(tr.tau):
        ref = theory.shared_weight(lam[None, :], probe[:, None], tau, n_features=n_features)
        np.testing.assert_allclose(np.einsum("jkk->jk", W_modes[r]), ref, rtol=2e-3, atol=1e-6)
        off = W_modes[r] - np.einsum("jkk->jk", W_modes[r])[..., None] * np.eye(3)
        assert np.abs(off).max() < 1e-6  # modes stay uncoupled (aligned start V = 0)


def test_shared_weight_rate_and_fixed_point_by_adaptive_quadrature():
    """One feature: A = 2 E[(λ+σ²)/(σ²+σ_d²)], b = 2 E[σ(λ−σ_d²)/(σ_d(σ²+σ_d²))] by scipy.quad in ln σ."""
    from scipy.integrate import quad

    def mean(f):
        return quad(
            lambda t: f(np.exp(t)) * np.exp(-0.5 * ((t + 1.2) / 1.2) ** 2) / (1.2 * np.sqrt(2 * np.pi)),
            -15,
            10,
            epsabs=1e-13,
            epsrel=1e-12,
            limit=200,
        )[0]

    for lam in (1e-4, 0.05, 3.0):
        A, b = theory.shared_weight_dynamics(lam)
        A_ref = mean(lambda s: 2 * (lam + s**2) / (s**2 + SD**2))
        b_ref = mean(lambda s: 2 * s * (lam - SD**2) / (SD * (s**2 + SD**2)))
        np.testing.assert_allclose(A[0, 0], A_ref, rtol=1e-10)
        np.testing.assert_allclose(b[0], b_ref, rtol=1e-10)
        # converged weight: the minimiser of the σ-averaged loss, found by brute force over v
        v = np.linspace(-3, 3, 60001)
        loss = [
            mean(
                lambda s, vv=vv: (
                    ((SD**2 + s * SD * vv) / (s**2 + SD**2) - 1) ** 2 * lam * (s**2 + SD**2) / (s * SD) ** 2
                    + ((SD**2 + s * SD * vv) / (s**2 + SD**2)) ** 2 * (s**2 + SD**2) / SD**2
                )
            )
            for vv in v[::600]
        ]
        v_coarse = v[::600][int(np.argmin(loss))]
        assert abs(b[0] / A[0, 0] - v_coarse) <= 0.06


def test_shared_weight_starts_at_c_skip_and_per_sigma_trainer_reproduces_chapter_8():
    sig = np.array([0.02, 0.3, 2.0])
    np.testing.assert_allclose(theory.shared_weight(0.1, sig, 0.0), theory.edm_preconditioning(sig)[0], rtol=1e-12)
    # the trainer with one matrix per noise level and weights p(σ_j) is the per-σ model of chapter 8
    lam = np.array([1.0, 0.01])
    x = _samples_with_second_moment(np.diag(lam), 20, 2)
    lr, n = 1e-3, 3000
    tr = train_preconditioned_linear(x, sig, theory.edm_noise_density(sig), np.eye(3), lr=lr, n_steps=n)
    W = weights_at_nodes(tr.V[-1], sig, np.eye(3))
    ref = theory.preconditioned_weight(lam[None, :], sig[:, None], n * lr)
    np.testing.assert_allclose(np.einsum("jkk->jk", W), ref, rtol=2e-3)


def test_shared_generated_variance_quadrature_vs_fine_heun_and_init_limit():
    lam = np.array([3.0, 0.1, 1e-3])
    tau = np.array([0.0, 0.5, 20.0, 1e4])
    g_quad = theory.shared_generated_variance(lam[:, None], tau)
    smin, smax = 0.002, 80.0
    np.testing.assert_allclose(g_quad[:, 0], smax**2 * (smin**2 + SD**2) / (smax**2 + SD**2), rtol=1e-9)
    # a fine Heun sampler stopping at σ_min (no step to 0) converges to the continuous PF-ODE
    errs = []
    for n in (400, 800):
        sig = theory.edm_sigma_schedule(n, smin, smax, 7)
        g_heun = theory.heun_generated_variance(theory.shared_weight, lam[:, None], tau, sig)
        errs.append(np.max(np.abs(g_heun / g_quad - 1)))
    assert errs[1] < 2e-4 and 3.0 < errs[0] / errs[1] < 5.0  # second order: error / 4 when the steps halve
    # the sampler option uses the networks' schedule with a last step to 0
    g20 = theory.shared_generated_variance(lam[:, None], tau, sampler_steps=20)
    sig20 = theory.edm_sigma_schedule(20, smin, smax, 7, append_zero=True)
    np.testing.assert_allclose(g20, theory.heun_generated_variance(theory.shared_weight, lam[:, None], tau, sig20))


def test_heun_covariance_matches_scalar_recursion_and_the_sampler_for_non_commuting_weights():
    sched = theory.edm_sigma_schedule(12, 0.002, 80.0, 7, append_zero=True)
    lam = np.array([2.0, 0.05, 1e-3])
    w = theory.one_layer_weight(lam[None, :], sched[:-1, None], 3.0, q=0.1)  # (J, d)
    C = heun_generated_covariance(w[..., None] * np.eye(3), sched)
    np.testing.assert_allclose(
        np.diag(C), theory.heun_generated_variance(theory.one_layer_weight, lam, 3.0, sched, q=0.1), rtol=1e-10
    )
    rng = np.random.default_rng(4)
    Ws = 0.3 * rng.standard_normal((sched.size - 1, 3, 3)) + 0.5 * np.eye(3)
    lookup = {float(s): W for s, W in zip(sched[:-1], Ws)}
    out = heun_sampler_linear(lambda s: lookup[s], x_init=sched[0] * np.eye(3), sigmas=sched)
    np.testing.assert_allclose(heun_generated_covariance(Ws, sched), out.T @ out, rtol=1e-10)


def test_adam_step_matches_torch_adam():
    torch = pytest.importorskip("torch")
    # rotated data: every entry of V has an O(1) gradient history (on exactly diagonal data the off-diagonal
    # gradients are round-off, which Adam's normalisation amplifies differently in each implementation)
    U = np.linalg.qr(np.random.default_rng(6).standard_normal((2, 2)))[0]
    x = _samples_with_second_moment(U @ np.diag([0.5, 0.02]) @ U.T, 10, 5)
    sig, om, _ = _trapezoid_nodes(21, 4.0)
    phi = np.ones((sig.size, 1))
    tr = train_preconditioned_linear(x, sig, om, phi, optimizer="adam", lr=1e-2, n_steps=50)
    V = torch.zeros((1, 2, 2), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([V], lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    X = torch.tensor(x)
    s = torch.tensor(sig)
    c_skip, c_out, c_in = SD**2 / (s**2 + SD**2), s * SD / (s**2 + SD**2).sqrt(), 1 / (s**2 + SD**2).sqrt()
    lw = torch.tensor(om) * (s**2 + SD**2) / (s * SD) ** 2
    for _ in range(50):
        opt.zero_grad()
        W = c_skip[:, None, None] * torch.eye(2) + (c_out * c_in)[:, None, None] * V[0]
        R = torch.einsum("na,jba->jnb", X, W) - X
        loss = (lw * ((R**2).sum((1, 2)) / 10 + s**2 * (W**2).sum((1, 2)))).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(tr.V[-1], V.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: theory.shared_weight(-1.0, 0.3, 1.0), "lam"),
        (lambda: theory.shared_weight(0.1, 0.0, 1.0), "sigma"),
        (lambda: theory.shared_weight(0.1, 0.3, 1.0, n_features=0), "n_features"),
        (lambda: theory.shared_weight(np.ones(3), np.ones(2), 1.0), "broadcast"),
        (lambda: theory.shared_generated_variance(0.1, 1.0, sampler_steps=1), "sampler_steps"),
        (
            lambda: train_preconditioned_linear(
                np.ones((3, 2)), [0.1], [1.0], np.ones((1, 1)), lr=0.1, n_steps=1, optimizer="sgd"
            ),
            "optimizer",
        ),
        (
            lambda: train_preconditioned_linear(np.ones((3, 2)), [0.1], [1.0], np.ones((2, 1)), lr=0.1, n_steps=1),
            "features",
        ),
        (
            lambda: train_preconditioned_linear(
                np.ones((3, 2)), [0.1, -1], [1.0, 1.0], np.ones((2, 1)), lr=0.1, n_steps=1
            ),
            "sigmas",
        ),
        (lambda: heun_generated_covariance(np.ones((3, 2, 2)), [1.0, 2.0, 0.0]), "sigmas"),
    ],
)
def test_bad_input_names_the_argument(call, word):
    with pytest.raises((ValueError, TypeError), match=word):
        call()


def test_per_sigma_gd_on_sampler_nodes_then_matrix_heun_reproduces_the_null_model_variance():
    """The chapter's Adam pipeline with optimizer="gd": train one matrix per sampler noise level on rotated data,
    sample with the matrix Heun recursion, read the variance along the data eigenvectors; compare with the per-mode
    closed form of chapter 8 sampled by the scalar recursion (theory.heun_generated_variance)."""
    lam = np.array([4.0, 0.5, 0.05, 0.005])
    U = np.linalg.qr(np.random.default_rng(9).standard_normal((4, 4)))[0]
    x = np.sqrt(4) * (U * np.sqrt(lam)) @ U.T  # 4 rows with second moment U diag(lam) U^T
    sched = theory.edm_sigma_schedule(20, 0.002, 80.0, 7, append_zero=True)
    s_pos = sched[:-1]
    lr, steps = 5e-4, [0, 400, 4000]
    tr = train_preconditioned_linear(
        x, s_pos, theory.edm_noise_density(s_pos), np.eye(s_pos.size), lr=lr, n_steps=steps[-1], record_steps=steps
    )
    C = heun_generated_covariance(weights_at_nodes(tr.V, s_pos, np.eye(s_pos.size)), sched)
    got = np.einsum("ak,rab,bk->rk", U, C, U)
    ref = theory.heun_generated_variance(theory.preconditioned_weight, lam[None, :], tr.tau[:, None], sched)
    np.testing.assert_allclose(got, ref, rtol=2e-3)
