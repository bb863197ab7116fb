"""A linear denoiser whose weights are shared across noise levels, trained on the EDM loss (chapter 12).

The theory of Wang & Pehlevan (2025) gives every noise level its own matrix W_σ (Sec. 1.3 of the theory notes).
A network has one set of weights for all σ and sees σ only through the noise embedding c_noise = ln(σ)/4. The
simplest model with that property is linear in x *and* in a few features of σ:

    D(x; σ) = c_skip(σ) x + c_out(σ) Σ_m φ_m(σ) V_m c_in(σ) x,        φ_m(σ) = He_m(z),  z = (ln σ - P_mean)/P_std,

with M features (He_m the probabilists' Hermite polynomials, orthonormal up to m! under the log-normal noise
density). M = 1 is ONE matrix shared by every noise level. Trained by gradient flow dV_m/dτ = -η ∂L/∂V_m on the EDM
loss L = E_{ln σ ~ N(P_mean, P_std²)} [λ(σ) E ||D - x_0||²] from V = 0, with zero-mean data whose covariance has
eigenvalues λ_k. Each mode k evolves independently (the V_m stay diagonal in the data basis). Writing
g(σ) = c_out c_in = σσ_d/(σ² + σ_d²) and using λ(σ) c_out² = 1, the per-mode loss gradient is

    ∂L/∂v_m = E_σ[ 2 φ_m(σ) (w(σ)(λ + σ²) − λ) / (σ σ_d) ],   w(σ) = c_skip(σ) + g(σ) Σ_m φ_m(σ) v_m,

which is linear in v: dv/dτ = −η (A v − b) with the M × M matrix and M-vector

    A_mn = E_σ[ 2 φ_m φ_n (λ + σ²) / (σ² + σ_d²) ],     b_m = E_σ[ 2 φ_m σ (λ − σ_d²) / (σ_d (σ² + σ_d²)) ],    (eq. S)

so v(τ) = (I − e^{−ηAτ}) A^{−1} b. For M = 1 the mode's rate is η A = 2η (λ E[1/(σ²+σ_d²)] + E[σ²/(σ²+σ_d²)]):
it tends to a constant for λ → 0, unlike the per-σ model's 2η_eff(σ)(λ + σ²), and the fixed point w(σ, ∞) is the
best compromise over σ, not the optimal denoiser λ/(λ + σ²). The expectations are computed by Gauss–Hermite
quadrature in ln σ. The check against explicit gradient descent on samples is
:func:`spectral_bias.numerics.train_preconditioned_linear` (tests/test_theory_shared_weights.py).
"""

from __future__ import annotations

import numpy as np

from .constants import SIGMA_DATA, SIGMA_MAX, SIGMA_MIN
from .generated import heun_generated_variance, log_generated_variance_quadrature
from .schedule import heun_sampler_sigmas
from .validation import (
    check_broadcastable,
    check_integer,
    check_nonnegative,
    check_positive,
    check_positive_scalar,
    check_real_scalar,
    check_sigma_range,
)
from .weighting import P_MEAN, P_STD, edm_preconditioning

__all__ = ["noise_features", "shared_generated_variance", "shared_weight", "shared_weight_dynamics"]

_N_NODES = 96
_MAX_NODES = 300  # numpy's Gauss–Hermite rule overflows beyond ~350 nodes; 96 already integrates to ~1e-15
_MAX_LOG_SIGMA = 340.0  # |ln σ| of a quadrature node: σ² and 1/σ² stay inside float64


def _noise_density(p_mean, p_std):
    """(p_mean, p_std) of the log-normal noise density as floats: one finite real number and one > 0."""
    return check_real_scalar(p_mean, "p_mean"), check_positive_scalar(p_std, "p_std")


def _n_nodes(n_nodes, n_features):
    """Number of Gauss–Hermite nodes (8..300) and of features (1..n_nodes: the quadrature Gram matrix of more
    features than nodes is singular)."""
    n = check_integer(n_nodes, "n_nodes", min_value=8)
    if n > _MAX_NODES:
        raise ValueError(f"n_nodes must be <= {_MAX_NODES} (the Gauss-Hermite rule overflows beyond), got {n}")
    m = check_integer(n_features, "n_features", min_value=1)
    if m > n:
        raise ValueError(
            f"n_features must be <= n_nodes={n} (more features than quadrature nodes make the "
            f"matrix A of eq. S singular), got {m}"
        )
    return n, m


def noise_features(sigma, n_features, *, p_mean=P_MEAN, p_std=P_STD):
    """Features φ_m(σ) = He_m((ln σ − p_mean)/p_std), m = 0..n_features−1 (eq. S of chapter 12): shape
    ``sigma.shape + (n_features,)``. φ_0 = 1, so ``n_features=1`` is one matrix shared by every noise level.
    Raises ValueError/TypeError naming the argument."""
    sigma = check_positive(sigma, "sigma")
    m = check_integer(n_features, "n_features", min_value=1)
    p_mean, p_std = _noise_density(p_mean, p_std)
    with np.errstate(over="ignore"):
        z = (np.log(sigma) - p_mean) / p_std
    if not np.all(np.isfinite(z)):
        raise ValueError(f"(ln sigma - p_mean)/p_std overflows float64 (p_mean={p_mean:g}, p_std={p_std:g})")
    # hermevander promotes a scalar to shape (1,): reshape to the documented sigma.shape + (M,)
    return np.polynomial.hermite_e.hermevander(z, m - 1).reshape(sigma.shape + (m,))


def shared_weight_dynamics(lam, *, n_features=1, p_mean=P_MEAN, p_std=P_STD, sigma_data=SIGMA_DATA, n_nodes=_N_NODES):
    """The matrices of eq. S for each mode: returns ``(A, b)`` with shapes ``lam.shape + (M, M)`` and
    ``lam.shape + (M,)``, M = ``n_features``; the per-mode coefficients obey dv/dτ = −η (A v − b) and converge to
    A⁻¹ b. Expectations over ln σ ~ N(p_mean, p_std²) by ``n_nodes``-point Gauss–Hermite quadrature.
    Raises ValueError/TypeError naming the argument."""
    lam = check_nonnegative(lam, "lam")
    sd = check_positive_scalar(sigma_data, "sigma_data")
    p_mean, p_std = _noise_density(p_mean, p_std)
    n, _ = _n_nodes(n_nodes, n_features)
    x, wq = np.polynomial.hermite_e.hermegauss(n)
    wq = wq / np.sqrt(2.0 * np.pi)
    log_sig = p_mean + p_std * x
    if not np.all(np.abs(log_sig) <= _MAX_LOG_SIGMA):
        raise ValueError(
            f"p_mean and p_std put the quadrature nodes ln sigma = p_mean + p_std*x (|x| <= "
            f"{x.max():.3g}) outside [-{_MAX_LOG_SIGMA:g}, {_MAX_LOG_SIGMA:g}] (float64 range), "
            f"got p_mean={p_mean:g}, p_std={p_std:g}"
        )
    if not 1e-150 < sd < 1e150:
        raise ValueError(
            f"sigma_data must lie in (1e-150, 1e150) so that sigma_data**2 stays inside float64, got {sd:g}"
        )
    sig = np.exp(log_sig)
    phi = noise_features(sig, n_features, p_mean=p_mean, p_std=p_std)  # (n, M)
    r2 = sig**2 + sd**2
    lam_c = lam[..., None]  # (..., 1) against the nodes
    a_w = 2.0 * wq * (lam_c + sig**2) / r2  # (..., n)
    b_w = 2.0 * wq * sig * (lam_c - sd**2) / (sd * r2)
    with np.errstate(over="ignore", invalid="ignore"):
        A = np.einsum("...j,jm,jn->...mn", a_w, phi, phi)
        b = np.einsum("...j,jm->...m", b_w, phi)
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise ValueError(
            f"the matrix A and vector b of eq. S leave the float64 range at lam up to "
            f"{lam.max(initial=0.0):g} with n_features={A.shape[-1]}, n_nodes={n}"
        )
    return A, b


def _coefficients(lam, tau, eta, A, b, inputs=""):
    """v(τ) = (I − e^{−ηAτ}) A⁻¹ b for broadcast (lam, tau); A, b computed on lam's shape. ``inputs`` describes
    the arguments that set A, for the error raised when A is numerically singular."""
    vals, vecs = np.linalg.eigh(A)  # A is symmetric positive definite
    if vals.size and not np.all(vals > 1e-13 * vals[..., -1:]):
        raise ValueError(
            f"the matrix A of eq. S is numerically singular (smallest/largest eigenvalue below 1e-13) "
            f"at {inputs}: use fewer n_features or a wider noise density"
        )
    c = np.einsum("...mn,...m->...n", vecs, b) / vals  # coefficients of A^-1 b in the eigenbasis of A
    tau = np.asarray(tau, dtype=float)[..., None]
    decay = -np.expm1(-eta * vals * tau)  # (..., M)
    return np.einsum("...nm,...m->...n", vecs, decay * c)


def shared_weight(
    lam, sigma, tau, *, eta=1.0, n_features=1, p_mean=P_MEAN, p_std=P_STD, sigma_data=SIGMA_DATA, n_nodes=_N_NODES
):
    """Per-mode denoiser weight w(σ, τ) = c_skip(σ) + c_out c_in Σ_m φ_m(σ) v_m(τ) of the EDM-trained linear model
    with weights shared across noise levels through ``n_features`` features of σ (eq. S, chapter 12), from V = 0.
    ``lam`` (>= 0), ``sigma`` (> 0) and ``tau`` (>= 0) broadcast; ``eta`` > 0. At τ = 0 it is c_skip(σ).
    The signature fits :func:`heun_generated_variance` and :func:`log_generated_variance_quadrature`.
    Raises ValueError/TypeError naming the argument."""
    lam = check_nonnegative(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    tau = check_nonnegative(tau, "tau")
    eta = check_positive_scalar(eta, "eta")
    try:
        out_shape = np.broadcast_shapes(lam.shape, sigma.shape, tau.shape)
        lt_shape = np.broadcast_shapes(lam.shape, tau.shape)
    except ValueError as exc:
        raise ValueError(f"lam {lam.shape}, sigma {sigma.shape} and tau {tau.shape} do not broadcast") from exc
    # the coefficients v depend on (lam, tau) only: solve eq. S once per distinct lam, then broadcast against sigma
    lam_b, tau_b = (np.broadcast_to(a, lt_shape).ravel() for a in (lam, tau))
    lam_u, inv = np.unique(lam_b, return_inverse=True)
    A, b = shared_weight_dynamics(
        lam_u, n_features=n_features, p_mean=p_mean, p_std=p_std, sigma_data=sigma_data, n_nodes=n_nodes
    )
    inv = inv.ravel()
    inputs = f"n_features={A.shape[-1]}, n_nodes={n_nodes}, p_std={float(p_std):g}"
    v = _coefficients(lam_b, tau_b, eta, A[inv], b[inv], inputs).reshape(lt_shape + (A.shape[-1],))
    phi = noise_features(sigma, n_features, p_mean=p_mean, p_std=p_std)
    c_skip, c_out, c_in = edm_preconditioning(sigma, sigma_data=sigma_data)
    return np.broadcast_to(c_skip + c_out * c_in * np.sum(phi * v, axis=-1), out_shape)


def shared_generated_variance(
    lam,
    tau,
    *,
    eta=1.0,
    n_features=1,
    sampler_steps=None,
    rho=7.0,
    p_mean=P_MEAN,
    p_std=P_STD,
    sigma_data=SIGMA_DATA,
    sigma_min=SIGMA_MIN,
    sigma_max=SIGMA_MAX,
):
    """Generated variance of :func:`shared_weight` (chapter 12). ``sampler_steps=None``: the continuous PF-ODE from
    σ_max to σ_min (Lemma 4.1, quadrature in ln σ); an integer N: the networks' sampler, N Heun steps on the EDM
    schedule with ``rho`` and a final Euler step to σ = 0 (:func:`heun_generated_variance`). ``lam`` (>= 0) and
    ``tau`` (>= 0) broadcast. Raises ValueError/TypeError naming the argument."""
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    # validate here, before the sampler, so that a bad argument is named before any quadrature runs
    lam = check_nonnegative(lam, "lam")
    tau = check_nonnegative(tau, "tau")
    check_broadcastable(lam=lam, tau=tau)
    eta = check_positive_scalar(eta, "eta")
    check_integer(n_features, "n_features", min_value=1)
    _noise_density(p_mean, p_std)
    check_positive_scalar(sigma_data, "sigma_data")
    kw = dict(eta=eta, n_features=n_features, p_mean=p_mean, p_std=p_std, sigma_data=sigma_data)
    if sampler_steps is None:
        return np.exp(
            log_generated_variance_quadrature(
                shared_weight, lam, tau, sigma_min=smin, sigma_max=smax, n_panels=64, n_per_panel=16, **kw
            )
        )
    sig = heun_sampler_sigmas(sampler_steps, rho, smin, smax)
    return heun_generated_variance(shared_weight, lam, tau, sig, **kw)
