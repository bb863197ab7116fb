"""Generated variance for any per-σ weight by quadrature of the PF-ODE rate (Lemma 4.1, sign derived from eq. PF).

For a linear denoiser whose weights share the data eigenbasis, mode k of the probability-flow ODE
dx/dσ = -(D(x; σ) - x)/σ obeys d ln|x_k|/dσ = (1 - w_k(σ))/σ. Integrating from σ_max (where x ~ N(0, σ_max²))
down to σ_min gives

    ln λ̂_k = ln σ_max² - 2 ∫_{σ_min}^{σ_max} (1 - w_k(s)) / s ds
           = ln σ_max² - 2 ∫_{ln σ_min}^{ln σ_max} (1 - w_k(e^t)) dt.

(The transcription of Lemma 4.1 with the opposite sign would *expand* samples for w = 0; the check w ≡ 0 must
give the contraction λ̂ = σ_min², which this form does.) This is the independent check of the closed forms, and
the tool for weights without one (deep, convolutional, preconditioned models).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate

from .constants import SIGMA_MAX, SIGMA_MIN
from .validation import check_choice, check_finite, check_integer, check_nonnegative, check_sigma_range, check_times

__all__ = [
    "generated_variance_quadrature",
    "heun_generated_variance",
    "heun_generated_variance_from_gains",
    "log_generated_variance_quadrature",
]


def _gauss_legendre_log_sigma(sigma_min, sigma_max, n_panels, n_per_panel):
    """Composite Gauss-Legendre nodes/weights in t = ln σ over [ln σ_min, ln σ_max]. Raises TypeError/ValueError
    naming n_panels or n_per_panel unless they are integers >= 1."""
    n_panels = check_integer(n_panels, "n_panels")
    n_per_panel = check_integer(n_per_panel, "n_per_panel")
    x, w = np.polynomial.legendre.leggauss(n_per_panel)
    edges = np.linspace(np.log(sigma_min), np.log(sigma_max), n_panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    t = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    wt = (half[:, None] * w[None, :]).ravel()
    return np.exp(t), wt


def log_generated_variance_quadrature(
    weight_fn,
    lam,
    tau,
    *,
    sigma_min=SIGMA_MIN,
    sigma_max=SIGMA_MAX,
    method="gauss",
    n_panels=128,
    n_per_panel=16,
    chunk=2048,
    epsabs=1e-13,
    epsrel=1e-13,
    **weight_kwargs,
):
    """ln λ̂ = ln σ_max² - 2 ∫ (1 - w(λ, s, τ))/s ds by numerical integration in ln σ (see module docstring).

    ``weight_fn(lam, sigma, tau, **weight_kwargs)`` must broadcast (e.g. :func:`one_layer_weight`). ``lam`` (>= 0)
    and ``tau`` (>= 0) broadcast to the output shape; array-valued ``weight_kwargs`` broadcast with them too.
    method="gauss": composite Gauss-Legendre, ``n_panels`` x ``n_per_panel`` nodes (default 2048; panel width
    0.08 in ln σ, far narrower than any feature of the one-layer integrand, which varies on O(1) scales in ln σ),
    vectorised in chunks of ``chunk`` points. method="quad": scipy.integrate.quad per point (adaptive, tolerances
    ``epsabs``/``epsrel``; slow, for scalars and checks). Raises ValueError for bad arguments.
    """
    lam = check_nonnegative(lam, "lam")
    tau = check_times(tau, "tau")
    s0, sT = check_sigma_range(sigma_min, sigma_max)
    check_choice(method, "method", {"gauss", "quad"})
    check_integer(chunk, "chunk")
    arr_kw, scal_kw = _split_weight_kwargs(weight_kwargs)
    try:
        bcast = np.broadcast_arrays(lam, tau, *arr_kw.values())
    except ValueError as exc:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in arr_kw.items())
        raise ValueError(f"lam {lam.shape}, tau {tau.shape} and {shapes} do not broadcast") from exc
    shape = bcast[0].shape
    lam_f, tau_f, *kw_f = (b.ravel() for b in bcast)
    arr_f = dict(zip(arr_kw, kw_f))
    if method == "gauss":
        sig, wt = _gauss_legendre_log_sigma(s0, sT, n_panels, n_per_panel)
        out = _integral_gauss(weight_fn, lam_f, tau_f, arr_f, scal_kw, sig, wt, chunk)
    else:
        out = _integral_quad(weight_fn, lam_f, tau_f, arr_f, scal_kw, np.log(s0), np.log(sT), epsabs, epsrel)
    return (np.log(sT**2) - 2.0 * out).reshape(shape)


def _split_weight_kwargs(weight_kwargs):
    """Split the keywords for ``weight_fn`` into array-valued ones (checked finite here, naming them; they broadcast
    with lam and tau) and the rest (passed unchanged: ``weight_fn`` checks them itself)."""

    def _is_array(k, v):
        if isinstance(v, (str, bytes, bool, type(None))):
            return False
        try:
            return np.ndim(v) > 0
        except ValueError:  # a ragged nested sequence: the check below names it
            check_finite(v, k)
            raise

    arr_kw = {k: check_finite(v, k) for k, v in weight_kwargs.items() if _is_array(k, v)}
    return arr_kw, {k: v for k, v in weight_kwargs.items() if k not in arr_kw}


def _integral_gauss(weight_fn, lam, tau, arr_kw, scal_kw, sig, wt, chunk):
    """∫ (1 - w(λ_i, e^t, τ_i)) dt for each point i of the flat ``lam``, ``tau`` (and per-point ``arr_kw``) with the
    quadrature nodes ``sig`` = e^t and weights ``wt``, in vectorised chunks of ``chunk`` points."""
    out = np.empty(lam.size)
    for start in range(0, lam.size, chunk):
        sl = slice(start, start + chunk)
        kw = {k: f[sl, None] for k, f in arr_kw.items()}
        w = weight_fn(lam[sl, None], sig[None, :], tau[sl, None], **scal_kw, **kw)
        out[sl] = (1.0 - w) @ wt
    return out


def _integral_quad(weight_fn, lam, tau, arr_kw, scal_kw, t0, t1, epsabs, epsrel):
    """The integral of :func:`_integral_gauss` over t in [t0, t1] by scipy.integrate.quad, one point at a time."""
    out = np.empty(lam.size)
    for i in range(lam.size):
        kw = {k: f[i] for k, f in arr_kw.items()}
        li, ti = lam[i], tau[i]

        def integrand(t):
            return 1.0 - float(weight_fn(li, np.exp(t), ti, **scal_kw, **kw))

        out[i] = integrate.quad(integrand, t0, t1, epsabs=epsabs, epsrel=epsrel, limit=500)[0]
    return out


def generated_variance_quadrature(weight_fn, lam, tau, *, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX, **weight_kwargs):
    """Generated variance λ̂ = exp(ln σ_max² - 2 ∫_{σ_min}^{σ_max} (1 - w(λ, s, τ))/s ds) by quadrature.

    The numerical counterpart of Prop. 4.2 for any per-σ weight ``weight_fn(lam, sigma, tau, **weight_kwargs)``.
    Options ``method`` ("gauss" | "quad"), ``n_panels``, ``n_per_panel`` may be passed as keywords (see
    :func:`log_generated_variance_quadrature`); all other keywords go to ``weight_fn``.
    Example: ``generated_variance_quadrature(one_layer_weight, lam, tau, eta=1.0, q=0.1)``.
    """
    return np.exp(
        log_generated_variance_quadrature(
            weight_fn, lam, tau, sigma_min=sigma_min, sigma_max=sigma_max, **weight_kwargs
        )
    )


def heun_generated_variance(weight_fn, lam, tau, sigmas, **weight_kwargs):
    """Generated variance of the *discrete* Heun sampler (EDM Alg. 1 without churn) for a per-mode linear
    denoiser: the sampler a neural run uses, so a linear baseline measured under the same protocol.

    With D(x; σ) = w(σ) x per mode, one Heun step σ → σ' (h = σ' − σ) multiplies x by
        g = 1 + h/2 · (a + b (1 + h a)),   a = (1 − w(σ))/σ,   b = (1 − w(σ'))/σ',
    and the final Euler step to σ' = 0 by g = 1 − σ a = w(σ). Starting from x ~ N(0, σ_0²),
        λ̂ = σ_0² Π_i g_i²   (computed as a sum of logs).
    As the steps refine this tends to the continuous Lemma 4.1 value (times w(σ_min)² when the schedule ends with
    a step to 0). Used by ``experiments.analysis`` (chapters 9–11) for the EDM-preconditioned null model.

    ``weight_fn(lam, sigma, tau, **weight_kwargs)`` broadcasts; ``lam`` (>= 0) and ``tau`` (>= 0) broadcast;
    ``sigmas`` is the sampler's schedule: 1-D, strictly decreasing, positive except possibly a last 0.
    Raises ValueError/TypeError naming the argument.
    """
    lam = check_nonnegative(lam, "lam")
    tau = check_times(tau, "tau")
    lam, tau = np.broadcast_arrays(lam, tau)
    return heun_generated_variance_from_gains(lambda s: weight_fn(lam, s, tau, **weight_kwargs), sigmas)


def heun_generated_variance_from_gains(gain_fn, sigmas):
    """The recursion of :func:`heun_generated_variance` for any denoiser that is diagonal in a fixed orthonormal
    basis: ``gain_fn(sigma)`` returns the per-direction gains (any shape, e.g. Fourier gains of a convolution,
    chapter 10), and the result is the generated variance of each direction, same shape.
    Raises ValueError for a bad schedule (see :func:`heun_generated_variance`)."""
    sig = check_nonnegative(sigmas, "sigmas")
    if sig.ndim != 1 or sig.size < 2 or np.any(np.diff(sig) >= 0) or np.any(sig[:-1] <= 0):
        raise ValueError("sigmas must be a 1-D strictly decreasing array of noise levels, positive except a last 0")
    log_var = 2.0 * np.log(sig[0])
    for s, s_next in zip(sig[:-1], sig[1:]):
        a = (1.0 - np.asarray(gain_fn(s), dtype=float)) / s
        if s_next > 0:
            h = s_next - s
            b = (1.0 - np.asarray(gain_fn(s_next), dtype=float)) / s_next
            g = 1.0 + 0.5 * h * (a + b * (1.0 + h * a))
        else:
            g = 1.0 - s * a
        log_var = log_var + 2.0 * np.log(np.abs(g))
    return np.exp(log_var)
