"""Linear convolutional denoisers with circular boundary, 1-D signals and 2-D images (Sec. 5.2 of Wang & Pehlevan 2025).

Convention. A filter with taps w_j at offsets o_j acts as D(x)_i = sum_j w_j x_{i + o_j} (indices mod the signal
shape). Its matrix is circulant, so every Fourier mode e_k(m) = N^{-1/2} exp(2 pi i m.k/N) is an eigenvector with
gain gamma_k = sum_j w_j exp(2 pi i o_j.k/N). Only the Fourier-mode data variances

    lamF_k = e_k^* Sigma e_k = [F^* Sigma F]_kk

enter (even for a non-stationary Sigma): they are the eigenvalues of the shift-averaged covariance
Sigma_bar = (1/N) sum_s S^s Sigma S^-s (App. G.3.2). N = number of positions (signal length, or H*W).

* Full-width filter (Prop. 5.3): gamma_k(sigma, tau) follows eq. 7 with lam -> lamF_k and eta -> N eta.
  (The printed eq. 10 has gamma_k(tau, sigma) on the right-hand side; it must be the initial gain gamma_k(0, sigma).)
* Local patch filter, K = P taps (P^2 in 2-D), P odd < N (Prop. 5.4): ridge regression in patch space,
  w(tau) = w* + exp[-2 N eta tau (sigma^2 + Sigma_patch)] (w(0) - w*), w* = (sigma^2 + Sigma_patch)^{-1}
  Sigma_patch e_0,
  with Sigma_patch the K x K patch covariance; the gains are the DFT of the zero-padded filter.
"""

from __future__ import annotations

import numbers

import numpy as np

from .constants import SIGMA_DATA, SIGMA_MAX, SIGMA_MIN
from .generated import _gauss_legendre_log_sigma
from .one_layer import one_layer_generated_variance, one_layer_weight
from .validation import check_finite, check_nonnegative, check_positive, check_positive_scalar, check_sigma_range
from .weighting import P_MEAN, P_STD, preconditioned_weight

__all__ = [
    "basis_variances_from_fourier",
    "circulant_gains_preconditioned",
    "circulant_generated_variance",
    "circulant_weight",
    "fourier_variances",
    "fourier_variances_from_samples",
    "patch_covariance",
    "patch_filter",
    "patch_gains",
    "patch_gains_preconditioned",
    "patch_generated_variance",
    "patch_offsets",
    "shift_averaged_covariance",
]


def _check_shape(shape, name="shape"):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple) or len(shape) not in (1, 2):
        raise ValueError(f"{name} must be (N,) for 1-D signals or (H, W) for images, got {shape!r}")
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{name} must contain integers, got {shape!r}")
        if s < 1:
            raise ValueError(f"{name} must contain positive sizes, got {shape!r}")
    return tuple(int(s) for s in shape)


def _check_lam_f(lam_f):
    lam_f = check_nonnegative(lam_f, "lam_f")
    if lam_f.ndim not in (1, 2) or lam_f.size < 2:
        raise ValueError(f"lam_f must be a 1-D (N,) or 2-D (H, W) array of Fourier variances, got shape {lam_f.shape}")
    return lam_f


def fourier_variances(cov, shape):
    """Fourier-mode data variances lamF_k = [F^* Sigma F]_kk (Sec. 5.2; only the diagonal matters).

    cov : (d, d) symmetric covariance of flattened signals (row-major for images), d = prod(shape).
    shape : N or (N,) for 1-D signals, (H, W) for images. Returns a real array of shape ``shape``
    (index k = frequency, numpy FFT ordering). Raises ValueError if cov is not d x d or not symmetric.
    """
    shape = _check_shape(shape)
    cov = check_finite(cov, "cov")
    d = int(np.prod(shape))
    if cov.shape != (d, d):
        raise ValueError(f"cov must have shape ({d}, {d}) for signal shape {shape}, got {cov.shape}")
    if not np.allclose(cov, cov.T, atol=1e-10 * max(1.0, np.abs(cov).max())):
        raise ValueError("cov must be symmetric")
    C = cov.reshape(shape + shape)
    ax_m = tuple(range(len(shape)))
    ax_n = tuple(range(len(shape), 2 * len(shape)))
    T = np.fft.ifftn(np.fft.fftn(C, axes=ax_m), axes=ax_n)  # T[k, k'] = e_k^* Sigma e_k'
    idx = np.indices(shape).reshape(len(shape), -1)
    diag = T.reshape(d, d)[np.ravel_multi_index(idx, shape), np.ravel_multi_index(idx, shape)]
    return diag.real.reshape(shape)


def fourier_variances_from_samples(x, *, center=True):
    """lamF_k = E |x_hat_k|^2 / N estimated from samples x of shape (n, N) or (n, H, W) (periodogram average).

    center=True subtracts the per-pixel mean first (the theory is for zero-mean data; the linear convolution has
    no bias). Returns shape x.shape[1:]. Raises ValueError for fewer than 2 samples or bad dimensions.
    """
    x = check_finite(x, "x")
    if x.ndim not in (2, 3) or x.shape[0] < 2:
        raise ValueError(f"x must have shape (n, N) or (n, H, W) with n >= 2, got {x.shape}")
    if center:
        x = x - x.mean(axis=0)
    axes = tuple(range(1, x.ndim))
    N = int(np.prod(x.shape[1:]))
    return np.mean(np.abs(np.fft.fftn(x, axes=axes)) ** 2, axis=0) / N


def shift_averaged_covariance(lam_f):
    """Sigma_bar = F diag(lamF) F^*: covariance of the data augmented with all circular shifts (App. G.3.2),
    i.e. the converged distribution of a full-width circular convolution (up to the sigma_min/sigma_max factor).
    lam_f of shape (N,) or (H, W); returns (d, d) with d = lam_f.size (row-major flattening)."""
    lam_f = _check_lam_f(lam_f)
    c = np.fft.ifftn(lam_f).real  # circular autocovariance c(delta)
    shape = lam_f.shape
    idx = np.indices(shape).reshape(len(shape), -1)
    diff = (idx[:, None, :] - idx[:, :, None]) % np.array(shape)[:, None, None]
    return c[tuple(diff)]


def circulant_weight(lam_f, sigma, tau, *, eta=1.0, q=0.0):
    """Gains gamma_k(sigma, tau) of a full-width circular convolution (Prop. 5.3, eq. 10 corrected).

    gamma_k = gamma*_k + (q - gamma*_k) exp(-2 N eta (sigma^2 + lamF_k) tau), gamma*_k = lamF_k/(lamF_k + sigma^2):
    the one-layer law with lam -> lamF_k and the learning rate multiplied by the number of positions N.
    Initial filter q * delta (gain q for every frequency).

    lam_f : (N,) or (H, W) Fourier variances (>= 0); sigma (> 0), tau (>= 0), q broadcast with each other.
    Returns shape broadcast(sigma, tau, q) + lam_f.shape. Raises ValueError/TypeError naming the argument.
    """
    lam_f = _check_lam_f(lam_f)
    sigma = check_positive(sigma, "sigma")
    tau = check_nonnegative(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    ex = (Ellipsis,) + (None,) * lam_f.ndim
    return one_layer_weight(lam_f, sigma[ex], tau[ex], eta=eta * lam_f.size, q=q[ex])


def circulant_generated_variance(lam_f, tau, *, eta=1.0, q=0.0, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX):
    """Generated variance of every Fourier mode for a full-width circular convolution (Prop. 5.3 + Prop. 4.2).

    Prop. 4.2 with lam -> lamF_k, eta -> N eta: the same inverse-variance law, N times faster. The generated
    distribution is the stationary Gaussian F diag(gen_var) F^*. Returns shape tau.shape + lam_f.shape.
    """
    lam_f = _check_lam_f(lam_f)
    tau = check_nonnegative(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    ex = (Ellipsis,) + (None,) * lam_f.ndim
    return one_layer_generated_variance(lam_f, tau[ex], eta=eta * lam_f.size, q=q[ex], sigma_min=smin, sigma_max=smax)


def patch_offsets(patch, ndim):
    """Offsets of a centred odd patch: (P, 1) in 1-D, (P*P, 2) in 2-D (row-major), centre tap at index K//2."""
    if isinstance(patch, bool) or not isinstance(patch, numbers.Integral):
        raise TypeError(f"patch must be an odd integer, got {type(patch).__name__} {patch!r}")
    if patch < 1 or patch % 2 == 0:
        raise ValueError(f"patch must be a positive odd integer (centred filter), got {patch}")
    r = patch // 2
    rng = np.arange(-r, r + 1)
    if isinstance(ndim, bool) or not isinstance(ndim, numbers.Integral) or ndim not in (1, 2):
        raise ValueError(f"ndim must be 1 or 2, got {ndim!r}")
    if ndim == 1:
        return rng[:, None]
    a, b = np.meshgrid(rng, rng, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1)


def _patch_setup(lam_f, patch):
    lam_f = _check_lam_f(lam_f)
    offs = patch_offsets(patch, lam_f.ndim)
    if any(patch > n for n in lam_f.shape):
        raise ValueError(f"patch ({patch}) must not be wider than the signal {lam_f.shape}")
    return lam_f, offs


def patch_covariance(lam_f, patch):
    """Patch covariance Sigma_patch (K x K) of a stationary signal with Fourier variances lam_f (Prop. 5.4).

    Sigma_patch[a, b] = c(o_b - o_a), c the circular autocovariance (inverse DFT of lamF): the position-averaged
    second moment of circular patches, (1/N) sum_i E[p_i p_i^T]. patch: odd int P <= N (P x P in 2-D).
    Raises TypeError for non-integer patch, ValueError for even patch or a patch wider than the signal.
    """
    lam_f, offs = _patch_setup(lam_f, patch)
    c = np.fft.ifftn(lam_f).real
    diff = (offs[None, :, :] - offs[:, None, :]) % np.array(lam_f.shape)
    return c[tuple(diff.transpose(2, 0, 1))]


def _patch_eigen(lam_f, patch):
    """Eigen-decomposition Sigma_patch = V diag(mu) V^T and a = V^T e_0 (centre tap)."""
    mu, V = np.linalg.eigh(patch_covariance(lam_f, patch))
    return np.maximum(mu, 0.0), V, V[V.shape[0] // 2].copy()


def patch_filter(lam_f, patch, sigma, tau, *, eta=1.0, q=0.0):
    """Taps w(sigma, tau) of a local patch filter trained by gradient flow (Prop. 5.4), from w(0) = q e_0.

    With Sigma_patch = V diag(mu) V^T and a = V^T e_0: w = V [a * (K_j + (q - K_j) exp(-2 N eta tau (mu_j + sigma^2)))],
    K_j = mu_j/(mu_j + sigma^2): every patch eigen-direction learns like a one-layer mode at rate N eta.
    Returns shape broadcast(sigma, tau) + (K,). Raises as :func:`patch_covariance`, plus sigma <= 0, tau < 0, eta <= 0.
    """
    lam_f, offs = _patch_setup(lam_f, patch)
    sigma = check_positive(sigma, "sigma")
    tau = check_nonnegative(tau, "tau")
    q = float(check_finite(q, "q"))
    eta = check_positive_scalar(eta, "eta")
    mu, V, a = _patch_eigen(lam_f, patch)
    per_dir = one_layer_weight(mu, sigma[..., None], tau[..., None], eta=eta * lam_f.size, q=q)
    return (per_dir * a) @ V.T


def _gains_from_taps(taps, offs, shape):
    """Real part of gamma_k = sum_j w_j exp(2 pi i o_j.k/N) (taps (..., K)); the imaginary part vanishes for the
    centro-symmetric filters that gradient flow produces from q e_0 (Sigma_patch is centro-symmetric)."""
    freqs = np.indices(shape).reshape(len(shape), -1).T  # (Nf, ndim)
    phase = 2 * np.pi * (offs / np.array(shape)) @ freqs.T  # (K, Nf)
    return (taps @ np.cos(phase)).reshape(taps.shape[:-1] + shape)


def patch_gains(lam_f, patch, sigma, tau, *, eta=1.0, q=0.0):
    """Per-Fourier-mode gains of the patch filter: DFT of the zero-padded taps (Prop. 5.4).
    Returns shape broadcast(sigma, tau) + lam_f.shape."""
    lam_f, offs = _patch_setup(lam_f, patch)
    return _gains_from_taps(patch_filter(lam_f, patch, sigma, tau, eta=eta, q=q), offs, lam_f.shape)


def patch_generated_variance(
    lam_f, patch, tau, *, eta=1.0, q=0.0, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX, n_panels=16, n_per_panel=8
):
    """Generated Fourier spectrum of a patch-convolution denoiser during training (Prop. 5.4; no closed form).

    All weights are circulant, hence commute (Lemma 4.1):
    gen_var_k = sigma_max^2 exp(-2 int (1 - gamma_k(s, tau))/s ds),
    integrated by a composite Gauss-Legendre rule in ln sigma (n_panels x n_per_panel = 128 nodes; error ~1e-12 in
    ln gen_var against 4x more nodes, and checked against a PF-ODE sampler in the tests). Returns shape
    tau.shape + lam_f.shape.
    """
    lam_f, offs = _patch_setup(lam_f, patch)
    tau = check_nonnegative(tau, "tau")
    q = float(check_finite(q, "q"))
    eta = check_positive_scalar(eta, "eta")
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    s, dx = _gauss_legendre_log_sigma(smin, smax, n_panels, n_per_panel)
    mu, V, a = _patch_eigen(lam_f, patch)
    freqs = np.indices(lam_f.shape).reshape(lam_f.ndim, -1).T
    cos = np.cos(2 * np.pi * (offs / np.array(lam_f.shape)) @ freqs.T)  # (K, Nf)
    # gains of patch eigen-direction j at every frequency: (V[:, j] a_j) . cos  -> (K_dirs, Nf)
    dir_gain = (V * a).T @ cos
    # the gains are linear in the per-direction weights, so integrate those first: int (1 - gamma_k) = sum(dx) -
    # (int per_dir) . dir_gain, which costs O(nodes K + K N) per tau instead of O(nodes K N)
    per_dir = one_layer_weight(mu, s[:, None], tau.reshape(-1, 1, 1), eta=eta * lam_f.size, q=q)  # (T, M, K)
    integral = dx.sum() - np.einsum("m,tmk->tk", dx, per_dir) @ dir_gain
    integral = integral.reshape(tau.shape + lam_f.shape)
    return np.exp(2 * np.log(smax) - 2 * integral)


def circulant_gains_preconditioned(lam_f, sigma, tau, *, eta=1.0, p_mean=P_MEAN, p_std=P_STD, sigma_data=SIGMA_DATA):
    """Gains of a full-width circular convolution trained under the EDM protocol (chapters 8 and 10): inside EDM
    preconditioning, with EDM loss weighting and log-normal σ sampling, from a zero inner filter. As
    :func:`circulant_weight` with initial gain c_skip(σ) and learning rate N η_eff(σ) (``theory.weighting``):
    ``preconditioned_weight(lamF_k, σ, τ, eta=N η)``. sigma and tau scalars or broadcastable arrays; returns
    shape broadcast(sigma, tau) + lam_f.shape."""
    lam_f = _check_lam_f(lam_f)
    sigma = check_positive(sigma, "sigma")
    tau = check_nonnegative(tau, "tau")
    eta = check_positive_scalar(eta, "eta")
    ex = (Ellipsis,) + (None,) * lam_f.ndim
    return preconditioned_weight(
        lam_f, sigma[ex], tau[ex], eta=eta * lam_f.size, p_mean=p_mean, p_std=p_std, sigma_data=sigma_data
    )


def patch_gains_preconditioned(lam_f, patch, sigma, tau, *, eta=1.0, p_mean=P_MEAN, p_std=P_STD, sigma_data=SIGMA_DATA):
    """Per-Fourier-mode gains of a local P x P patch filter trained under the EDM protocol (chapters 8 and 10).

    Prop. 5.4 with the chapter-8 re-parametrisation: every patch eigen-direction j (eigenvalue mu_j of
    Sigma_patch) follows ``preconditioned_weight(mu_j, σ, τ, eta=N η)``, i.e. starts at c_skip(σ) (the identity
    filter times c_skip) and learns at N η_eff(σ)(mu_j + σ²). Gains = DFT of the zero-padded taps. sigma and tau
    scalars or broadcastable arrays; returns shape broadcast(sigma, tau) + lam_f.shape."""
    lam_f, offs = _patch_setup(lam_f, patch)
    sigma = check_positive(sigma, "sigma")
    tau = check_nonnegative(tau, "tau")
    eta = check_positive_scalar(eta, "eta")
    mu, V, a = _patch_eigen(lam_f, patch)
    per_dir = preconditioned_weight(
        mu, sigma[..., None], tau[..., None], eta=eta * lam_f.size, p_mean=p_mean, p_std=p_std, sigma_data=sigma_data
    )
    return _gains_from_taps((per_dir * a) @ V.T, offs, lam_f.shape)


def basis_variances_from_fourier(gen_var_f, basis):
    """Variance along each column u_k of ``basis`` of the stationary Gaussian F diag(gen_var_f) F^* (the
    distribution a circular convolution generates): u_k^T Sigma u_k = sum_f gen_var_f |(F^* u_k)_f|^2.
    Used to measure convolutional theories in the image eigenbasis, exactly as the networks are (chapter 10).

    gen_var_f: (..., H, W) or (..., N) Fourier variances; basis: (d, m) with d = H W (row-major flattening).
    Returns (..., m). Raises ValueError on a size mismatch."""
    g = check_nonnegative(gen_var_f, "gen_var_f")
    U = check_finite(basis, "basis")
    if U.ndim != 2:
        raise ValueError(f"basis must be a (d, m) matrix, got shape {U.shape}")
    shape = g.shape[-2:] if g.ndim >= 2 and int(np.prod(g.shape[-2:])) == U.shape[0] else g.shape[-1:]
    d = int(np.prod(shape))
    if d != U.shape[0]:
        raise ValueError(f"gen_var_f's last axes {g.shape} do not match basis rows {U.shape[0]}")
    spec = np.fft.fftn(U.T.reshape((-1,) + shape), axes=tuple(range(1, len(shape) + 1)))
    power = (np.abs(spec) ** 2 / d).reshape(U.shape[1], d)  # |F^* u_k|^2 per frequency (unitary DFT)
    return g.reshape(g.shape[: g.ndim - len(shape)] + (d,)) @ power.T
