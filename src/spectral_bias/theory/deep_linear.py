"""Deep linear denoisers: per-mode learning dynamics and the generated variance (Sec. 5.1 of Wang & Pehlevan 2025).

For an aligned initialisation every eigenmode k of the data covariance learns independently. With
K = lam/(lam + sigma^2) the optimal (ridge) weight of the mode:

* symmetric two-layer W = P P^T (Prop. 5.1, eq. 8): logistic growth at rate 8*eta*lam, independent of sigma;
* balanced product of ``depth`` = L factors, W = W_L ... W_1 with equal per-mode singular values
  (App. F, re-derived here): dw/dtau = -2 eta L w^{2-2/L} ((lam + sigma^2) w - lam).
  L = 1 is the one-layer exponential (eq. 7), L = 2 is logistic at rate 4*eta*lam (half the P P^T rate),
  L >= 3 has an implicit solution that we invert numerically (hypergeometric antiderivative + Newton).

The decay curve that every shrinking mode of the symmetric two-layer model follows before it settles (the
lam -> 0 limit of its generated variance) is :func:`two_layer_decay_curve` (derived in chapter 6 of the book).

Notation: lam (lambda_k) data variance of the mode, sigma noise level, tau training time, eta learning rate,
q initial value of the (total) per-mode weight, gen_var the generated variance hat-lambda_k.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.special import hyp2f1

from .constants import SIGMA_MAX, SIGMA_MIN
from .generated import log_generated_variance_quadrature
from .one_layer import one_layer_generated_variance, one_layer_weight
from .validation import (
    check_broadcastable,
    check_integer,
    check_nonnegative,
    check_positive,
    check_positive_scalar,
    check_sigma_range,
)

__all__ = [
    "deep_linear_generated_variance",
    "deep_linear_rate",
    "deep_linear_weight",
    "two_layer_decay_curve",
    "two_layer_generated_variance",
    "two_layer_weight",
]


# ----------------------------------------------------------------------------------------------------------
# logistic (L = 2) solutions, shared by W = P P^T (rate 8 eta lam) and balanced W = P Q (rate 4 eta lam)
# ----------------------------------------------------------------------------------------------------------


def _growth_factor(lam, tau, rate):
    """E = exp(-rate*lam*tau) and h = (1 - E)/lam (-> rate*tau as lam -> 0), both without 0/0."""
    x = rate * lam * tau
    E = np.exp(-x)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where(lam > 0, -np.expm1(-x) / np.where(lam > 0, lam, 1.0), rate * tau)
    return E, h


def _logistic_weight(lam, sigma, tau, q, rate):
    """w = K q / ((K - q) E + q), written as q / (E + q (lam + sigma^2) h): no 0/0 for lam = 0 or q = 0."""
    E, h = _growth_factor(lam, tau, rate)
    den = E + q * (lam + sigma**2) * h
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(q > 0, q / np.where(q > 0, den, 1.0), 0.0)
    return w


def _logistic_log_gen_var(lam, tau, q, rate, sigma_min, sigma_max):
    """ln gen_var for w(s) = q/(A + B s^2), A = E + q(1-E), B = q h (closed-form PF-ODE integral).

    int (1 - w)/s ds = (1 - q/A) ln s + q/(2A) ln(A + B s^2), hence
    ln gen_var = ln smax^2 - 2 (1 - q/A) ln(smax/smin) - (q/A) ln[(A + B smax^2)/(A + B smin^2)].
    """
    E, h = _growth_factor(lam, tau, rate)
    A = E + q * (-np.expm1(-rate * lam * tau))  # = E + q (1 - E) > 0 for q > 0
    B = q * h
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(q > 0, q / np.where(q > 0, A, 1.0), 0.0)  # q/A in [0, 1/E]; 0 when nothing is learned
        # ln[(A + B smax^2)/(A + B smin^2)] = log1p(B (smax^2 - smin^2) / (A + B smin^2))
        ratio = np.where(q > 0, B * (sigma_max**2 - sigma_min**2) / np.where(q > 0, A + B * sigma_min**2, 1.0), 0.0)
    return 2.0 * np.log(sigma_max) - 2.0 * (1.0 - r) * np.log(sigma_max / sigma_min) - r * np.log1p(ratio)


def _weight_arguments(lam, sigma, tau, q, eta, *, lam_positive):
    """Validate the per-mode weight arguments of the deep linear models: lam >= 0 (> 0 if ``lam_positive``),
    sigma > 0, tau >= 0 and q >= 0 broadcasting together, eta > 0 a scalar. Returns them as arrays (eta a float);
    raises ValueError/TypeError naming the argument."""
    lam = (check_positive if lam_positive else check_nonnegative)(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    tau = check_nonnegative(tau, "tau")
    q = check_nonnegative(q, "q")
    eta = check_positive_scalar(eta, "eta")
    check_broadcastable(lam=lam, sigma=sigma, tau=tau, q=q)
    return lam, sigma, tau, q, eta


def two_layer_weight(lam, sigma, tau, *, eta=1.0, q):
    """Per-mode weight u_k^T P P^T u_k of the symmetric two-layer denoiser D = P P^T x (Prop. 5.1, eq. 8).

    w_k(sigma, tau) = K q / ((K - q) exp(-8 eta lam tau) + q),  K = lam / (lam + sigma^2):
    logistic growth from q to the ridge optimum K at the sigma-independent rate 8*eta*lam.

    Parameters
    ----------
    lam, sigma, tau : array_like, broadcast together
        data variance(s) lam >= 0, noise level(s) sigma > 0, training time(s) tau >= 0.
    eta : float > 0, learning rate.
    q : array_like >= 0, broadcast with lam
        initial per-mode weight u_k^T P(0) P(0)^T u_k (P P^T is PSD, so q >= 0). q = 0 is a fixed point:
        nothing is learned and w = 0 (returned exactly, no division by zero).

    Returns
    -------
    ndarray, the broadcast shape of (lam, sigma, tau, q).

    Raises
    ------
    ValueError for negative or non-finite lam, q or tau, sigma <= 0, eta <= 0; TypeError for non-numeric input.
    """
    lam, sigma, tau, q, eta = _weight_arguments(lam, sigma, tau, q, eta, lam_positive=False)
    return _logistic_weight(lam, sigma, tau, q, 8.0 * eta)


def two_layer_generated_variance(lam, tau, *, eta=1.0, q, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX):
    """Generated variance gen_var_k(tau) of the symmetric two-layer denoiser (Prop. 5.1 of Wang & Pehlevan 2025).

    Closed form of ln gen_var = ln sigma_max^2 - 2 int_{sigma_min}^{sigma_max} (1 - w_k(s, tau))/s ds with the
    logistic weight of :func:`two_layer_weight`, evaluated in log space (log1p), stable for tau -> 0, tau -> inf,
    lam -> 0 and q = 0 (no learning: gen_var = sigma_min^2, the PF-ODE with D = 0 contracts by sigma_min/sigma_max).

    Limits: tau = 0 gives sigma_max^2 (sigma_min/sigma_max)^{2(1-q)}; tau -> inf gives
    sigma_max^2 (lam + sigma_min^2)/(lam + sigma_max^2).

    Parameters: lam (>= 0), tau (>= 0), q (>= 0) broadcast together; eta > 0; 0 < sigma_min < sigma_max.
    Returns an ndarray of the broadcast shape. Raises ValueError/TypeError on bad input (see two_layer_weight).
    """
    lam = check_nonnegative(lam, "lam")
    tau = check_nonnegative(tau, "tau")
    q = check_nonnegative(q, "q")
    eta = check_positive_scalar(eta, "eta")
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    check_broadcastable(lam=lam, tau=tau, q=q)
    return np.exp(_logistic_log_gen_var(lam, tau, q, 8.0 * eta, smin, smax))


def two_layer_decay_curve(tau, *, eta=1.0, q, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX):
    """The common decay curve of shrinking modes of the symmetric two-layer denoiser W = P P^T (book, chapter 6).

    The lam -> 0 limit of the two-layer generated variance (eq. ``eq-two-layer-decay`` of chapter 6, from
    Prop. 5.1 of Wang & Pehlevan 2025 / eq. ``eq-two-layer-genvar``): with lam -> 0 the logistic weight becomes
    w(s, tau) = q/(1 + 8 eta q tau s^2), and the PF-ODE integral gives, exactly,

        gen_var(tau) = sigma_max^2 (sigma_min/sigma_max)^{2(1-q)}
                       * [(1 + 8 eta q tau sigma_min^2)/(1 + 8 eta q tau sigma_max^2)]^q.

    A mode with variance lam follows this curve while 8 eta lam tau << 1 and leaves it to settle at lam.
    In the window 8 eta q tau sigma_min^2 << 1 << 8 eta q tau sigma_max^2 it is the power law
    sigma_min^{2(1-q)} (8 eta q tau)^{-q}; for q = 1 that is 1/(8 eta tau). Compare the one-layer curve
    sigma_min^{2(1-q)} (2 e^gamma eta tau)^{-q} (:func:`spectral_bias.theory.contraction_transient_variance`,
    chapters 4, 5 and 8): the same power tau^{-q} (so the same geometric-criterion exponent 1/(2q) for the
    decreasing branch) but a different prefactor, (8 q)^{-q} instead of (2 e^gamma)^{-q}.

    Parameters
    ----------
    tau : array_like >= 0, training time(s); broadcast with q.
    eta : float > 0, learning rate.
    q : array_like >= 0, initial per-mode weight (q = 0: nothing is learned, gen_var = sigma_min^2).
    sigma_min, sigma_max : 0 < sigma_min < sigma_max, the sampler's noise range.

    Returns
    -------
    ndarray of the broadcast shape of (tau, q).

    Raises
    ------
    ValueError for negative or non-finite tau or q, eta <= 0 or a bad sigma range; TypeError for non-numeric input.
    """
    tau = check_nonnegative(tau, "tau")
    q = check_nonnegative(q, "q")
    eta = check_positive_scalar(eta, "eta")
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    check_broadcastable(tau=tau, q=q)
    b = 8.0 * eta * q * tau
    # ln[(1 + b smax^2)/(1 + b smin^2)] = log1p(b (smax^2 - smin^2)/(1 + b smin^2)), accurate for b -> 0
    log_ratio = np.log1p(b * (smax**2 - smin**2) / (1.0 + b * smin**2))
    return np.exp(2.0 * np.log(smax) - 2.0 * (1.0 - q) * np.log(smax / smin) - q * log_ratio)


# ----------------------------------------------------------------------------------------------------------
# balanced depth-L products
# ----------------------------------------------------------------------------------------------------------


def deep_linear_rate(lam, sigma, *, eta=1.0, depth):
    """Time scale c of the reduced per-mode ODE dv/d(c tau) = v^{2-2/L} (1 - v), v = w/K (balanced depth L).

    c = 2 eta L lam K^{1-2/L}, K = lam/(lam + sigma^2). L = 1: 2 eta (lam + sigma^2) (eq. 7);
    L = 2: 4 eta lam (logistic, sigma-independent); L >= 3: grows with K, i.e. the high-noise weights
    (K small) learn more slowly. Shapes broadcast; raises like :func:`deep_linear_weight`.
    """
    depth = check_integer(depth, "depth", min_value=1)
    lam = check_positive(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    eta = check_positive_scalar(eta, "eta")
    K = lam / (lam + sigma**2)
    return 2.0 * eta * depth * lam * K ** (1.0 - 2.0 / depth)


_XG, _WG = np.polynomial.legendre.leggauss(24)


def _R(x, p):
    """R(x) = int_1^x (s^-p - 1)/(1 - s) ds for x in [1/2, 2] (smooth integrand; 24-point Gauss-Legendre)."""
    s = 1.0 + (x[..., None] - 1.0) * 0.5 * (_XG + 1.0)
    gap = 1.0 - s
    safe = np.abs(gap) > 1e-12
    f = np.where(safe, (s**-p - 1.0) / np.where(safe, gap, 1.0), p)
    return (x - 1.0) * 0.5 * (f @ _WG)


def _A(u, p):
    """int u^-p/(1 - u) du near u = 0 (hypergeometric series, accurate for u <= 1/2)."""
    a = 1.0 - p
    return u**a / a * hyp2f1(a, 1.0, a + 1.0, u)


def _B(t, p):
    """int t^{p-1}/(1 - t) dt in t = 1/u (accurate for t <= 1/2), vanishing at t = 0."""
    return t**p / p * hyp2f1(p, 1.0, p + 1.0, t)


def _G_below(u, p, log_gap):
    """Antiderivative of 1/(u^p (1 - u)) on 0 < u < 1, increasing; log_gap = ln(1 - u) (exact near u = 1)."""
    half = np.array(0.5)
    out = np.empty(u.shape)
    lo = u <= 0.5
    out[lo] = _A(u[lo], p) - _A(half, p) + np.log(2.0) + _R(half, p)
    out[~lo] = -log_gap[~lo] + _R(u[~lo], p)
    return out


def _G_above(u, p, log_gap):
    """Antiderivative of 1/(u^p (1 - u)) on u > 1, decreasing, normalised to 0 at u = inf (so it keeps full
    relative precision when u is huge); log_gap = ln(u - 1)."""
    two = np.array(2.0)
    c_inf = _R(two, p) - _B(0.5, p)  # G(u) = -ln(u-1) + R(u) on [1, 2] equals B(1/u) + c_inf
    out = np.empty(u.shape)
    hi = u >= 2.0
    out[hi] = _B(1.0 / u[hi], p)
    out[~hi] = -log_gap[~hi] + _R(u[~hi], p) - c_inf
    return out


@functools.lru_cache(maxsize=16)
def _inverse_tables(p):
    """Cubic-spline inverses of G_below (z = logit u on [-60, 36] vs G) and of G_above (y = ln(u - 1) on
    [-36, 40] vs ln G_above), for one exponent p (cached). Outside, the asymptotics are used."""
    z = np.linspace(-60.0, 36.0, 40001)
    Gz = _G_below(1.0 / (1.0 + np.exp(-z)), p, -np.logaddexp(0.0, z))
    below = CubicSpline(Gz, z)
    c0 = float(Gz[0] - np.exp(-np.logaddexp(0.0, -z[0])) ** (1 - p) / (1 - p))  # G ~ u^{1-p}/(1-p) + c0
    y = np.linspace(-36.0, 40.0, 40001)
    lnGy = np.log(_G_above(1.0 + np.exp(y), p, y))
    above = CubicSpline(lnGy[::-1], y[::-1])
    c_inf = float(np.exp(lnGy[0]) + y[0])  # G ~ -ln(u - 1) - c_inf' as u -> 1+, i.e. y = -(G + c_inf')
    return below, above, c0, c_inf


def _G_inverse_below(g, p):
    """u in (0, 1) with G_below(u) = g."""
    below, _, c0, _ = _inverse_tables(p)
    g0, g1 = below.x[0], below.x[-1]
    u = 1.0 / (1.0 + np.exp(-below(np.clip(g, g0, g1))))
    base = np.where(g < g0, (g - c0) * (1 - p), 1.0)  # > 0 in the u -> 0 tail
    u = np.where(g < g0, base ** (1.0 / (1 - p)), u)  # u -> 0: G ~ u^{1-p}/(1-p) + c0
    return np.where(g > g1, -np.expm1(-g), u)  # u -> 1-: 1 - u = e^{-G}


def _G_inverse_above(g, p):
    """u > 1 with G_above(u) = g > 0."""
    _, above, _, c_inf = _inverse_tables(p)
    lng = np.log(g)
    l0, l1 = above.x[0], above.x[-1]
    u = 1.0 + np.exp(above(np.clip(lng, l0, l1)))
    u = np.where(lng > l1, 1.0 + np.exp(-(g - c_inf)), u)  # u -> 1+
    return np.where(lng < l0, (p * g) ** (-1.0 / p), u)  # u -> inf: G ~ u^{-p}/p


def deep_linear_weight(lam, sigma, tau, *, eta=1.0, q, depth):
    """Per-mode total weight w = u_k^T W_L...W_1 u_k of a balanced depth-L linear denoiser (Sec. 5.1, App. F).

    Aligned, balanced initialisation: every factor has per-mode singular value q^{1/L}, so the product starts at q
    and stays balanced. Gradient flow on the EDM loss gives (re-derived here; the paper gives no closed form)

        dw/dtau = -2 eta L w^{2-2/L} ((lam + sigma^2) w - lam).

    depth = 1: eq. 7 (exponential, rate 2 eta (lam + sigma^2));
    depth = 2: logistic at rate 4 eta lam (the balanced W = P Q; half the symmetric P P^T rate);
    depth >= 3: with v = w/K and s = c tau (see :func:`deep_linear_rate`), dv/ds = v^p (1 - v), p = 2 - 2/L,
    solved implicitly: G(v) - G(v0) = s with G an antiderivative of 1/(v^p (1 - v)), inverted numerically.

    Parameters
    ----------
    lam : array_like > 0 ; sigma : array_like > 0 ; tau : array_like >= 0 ; q : array_like >= 0 (broadcast).
    eta : float > 0. depth : int >= 1.

    Returns ndarray of the broadcast shape; q = 0 gives w = 0 exactly for depth >= 2 (unstable fixed point).
    Raises ValueError/TypeError naming the argument (lam <= 0, sigma <= 0, tau < 0, q < 0, non-finite values,
    eta <= 0, non-integer or < 1 depth).
    """
    depth = check_integer(depth, "depth", min_value=1)
    lam, sigma, tau, q, eta = _weight_arguments(lam, sigma, tau, q, eta, lam_positive=True)
    lam, sigma, tau, q = np.broadcast_arrays(lam, sigma, tau, q)
    K = lam / (lam + sigma**2)
    if depth == 1:
        return one_layer_weight(lam, sigma, tau, eta=eta, q=q)
    if depth == 2:
        return _logistic_weight(lam, sigma, tau, q, 4.0 * eta)
    p = 2.0 - 2.0 / depth
    c = 2.0 * eta * depth * lam * K ** (1.0 - 2.0 / depth)
    v0 = q / K
    s = c * tau
    out = np.zeros(lam.shape)
    move = (q > 0) & (v0 != 1.0)
    out[(q > 0) & ~move] = K[(q > 0) & ~move]
    up = move & (v0 < 1.0)  # growing towards K
    if np.any(up):
        v0u = v0[up]
        g = _G_below(v0u, p, np.log1p(-v0u)) + s[up]
        out[up] = K[up] * _G_inverse_below(g, p)
    down = move & (v0 > 1.0)  # decaying towards K from above
    if np.any(down):
        v0d = v0[down]
        g = _G_above(v0d, p, np.log(v0d - 1.0)) + s[down]
        out[down] = K[down] * _G_inverse_above(g, p)
    return out


def deep_linear_generated_variance(
    lam, tau, *, eta=1.0, q, depth, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX, n_panels=48, order=12
):
    """Generated variance of a balanced depth-L linear denoiser, by quadrature of the PF-ODE integral.

    ln gen_var = ln sigma_max^2 - 2 int_{sigma_min}^{sigma_max} (1 - w(s, tau))/s ds (Lemma 4.1 / Prop. 4.2
    of Wang & Pehlevan 2025; all weights share the data eigenbasis), with w from :func:`deep_linear_weight`.
    depth = 1 uses Prop. 4.2 (one_layer_generated_variance), depth = 2 the exact logistic closed form (rate
    4 eta lam); depth >= 3 uses the composite Gauss-Legendre rule of log_generated_variance_quadrature
    (n_panels x order nodes; error ~1e-9 in ln gen_var, see tests).

    lam (> 0), tau (>= 0) and q (>= 0) broadcast; returns ndarray of the broadcast shape.
    Raises ValueError/TypeError naming the argument on bad input (as deep_linear_weight, plus sigma range).
    """
    depth = check_integer(depth, "depth", min_value=1)
    n_panels, order = check_integer(n_panels, "n_panels"), check_integer(order, "order")
    lam = check_positive(lam, "lam")
    tau = check_nonnegative(tau, "tau")
    q = check_nonnegative(q, "q")
    eta = check_positive_scalar(eta, "eta")
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    if depth == 2:
        return np.exp(_logistic_log_gen_var(lam, tau, q, 4.0 * eta, smin, smax))
    if depth == 1:
        return one_layer_generated_variance(lam, tau, eta=eta, q=q, sigma_min=smin, sigma_max=smax)
    return np.exp(
        log_generated_variance_quadrature(
            deep_linear_weight,
            lam,
            tau,
            sigma_min=smin,
            sigma_max=smax,
            n_panels=n_panels,
            n_per_panel=order,
            eta=eta,
            q=q,
            depth=depth,
        )
    )
