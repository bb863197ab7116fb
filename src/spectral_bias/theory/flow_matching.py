"""Flow matching with a linear velocity field (App. H of Wang & Pehlevan 2025; Figs. 7-8).

Convention: x_t = t x_1 + (1 - t) x_0 with data x_1 (variance lam per mode) and noise x_0 ~ N(0, I); the
velocity target is x_1 - x_0 and the model is v(x, t) = W_t x with independent weights for every t in [0, 1].
Per mode the regression has input variance g(t) = t^2 lam + (1 - t)^2 and optimum f(t) = (t lam - (1 - t))/g(t),
so gradient flow from an aligned initial weight q gives (same structure as eq. 7)

    w(t, tau) = f(t) + (q - f(t)) exp(-2 eta tau g(t)).

Sampling integrates dx/dt = W_t x from t = 0 (x ~ N(0, I)) to t = 1, so gen_var = exp(2 int_0^1 w dt).
"""

from __future__ import annotations

import numpy as np

from ._expint import e1_difference
from ._special import erf_over_x
from .validation import (
    check_broadcastable,
    check_finite,
    check_in_range,
    check_nonnegative,
    check_positive,
    check_positive_scalar,
)

__all__ = [
    "flow_matching_generated_variance",
    "flow_matching_input_variance",
    "flow_matching_optimal_weight",
    "flow_matching_weight",
]


def flow_matching_input_variance(lam, t):
    """g(t) = t^2 lam + (1 - t)^2: variance of x_t along a mode of data variance lam (sets the learning rate)."""
    lam = check_nonnegative(lam, "lam")
    t = check_in_range(t, "t", 0.0, 1.0)
    return t**2 * lam + (1.0 - t) ** 2


def flow_matching_optimal_weight(lam, t):
    """f(t) = (t lam - (1 - t)) / g(t): the converged per-mode velocity weight (App. H). Needs g(t) > 0,
    i.e. lam > 0 or t < 1."""
    g = flow_matching_input_variance(lam, t)
    if np.any(g <= 0):
        raise ValueError("lam must be > 0 where t = 1 (the input x_1 has zero variance there)")
    return (np.asarray(t) * np.asarray(lam, dtype=float) - (1.0 - np.asarray(t, dtype=float))) / g


def flow_matching_weight(lam, t, tau, *, eta=1.0, q=0.0):
    """Per-mode velocity weight w_k(t, tau) of one-layer linear flow matching (App. H, Fig. 7A).

    w = f(t) + (q - f(t)) exp(-2 eta tau g(t)),  g = t^2 lam + (1 - t)^2,  f = (t lam - (1 - t))/g.

    lam (> 0), t (in [0, 1]), tau (>= 0), q (real) broadcast; eta > 0. Returns an ndarray of the broadcast shape.
    Raises ValueError/TypeError naming the argument for negative/non-finite lam or tau, t outside [0, 1],
    non-finite q, eta <= 0.
    """
    lam = check_positive(lam, "lam")
    t = check_in_range(t, "t", 0.0, 1.0)
    tau = check_nonnegative(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    check_broadcastable(lam=lam, t=t, tau=tau, q=q)
    g = t**2 * lam + (1.0 - t) ** 2
    f = (t * lam - (1.0 - t)) / g
    return f + (q - f) * np.exp(-2.0 * eta * tau * g)


def flow_matching_generated_variance(lam, tau, *, eta=1.0, q=0.0):
    """Generated variance gen_var_k(tau) = exp(2 I_k) of linear flow matching (App. H, Fig. 7B).

    I_k = int_0^1 w_k(t, tau) dt in closed form (a = 2 eta tau, b = sqrt(a/(lam + 1))):

        I = 1/2 ln lam + 1/2 [Ei(-a) - Ei(-a lam)]
            + q e^{-a lam/(lam+1)} sqrt(pi)/(2 (lam + 1)) [erf(b)/b + lam erf(lam b)/(lam b)]

    written with erf(x)/x so that tau -> 0 is finite: gen_var(0) = e^{2q}, gen_var(inf) = lam exactly
    (the flow starts from N(0, I) at t = 0 and no sigma_min/sigma_max truncation enters).

    lam (> 0), tau (>= 0), q broadcast; eta > 0. Returns ndarray of the broadcast shape.
    Raises ValueError/TypeError naming the argument on bad input.
    """
    lam = check_positive(lam, "lam")
    tau = check_nonnegative(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    check_broadcastable(lam=lam, tau=tau, q=q)
    with np.errstate(over="ignore"):
        a = 2.0 * eta * tau
    if not np.all(np.isfinite(a)):
        raise ValueError(f"eta * tau must be finite, got eta={eta:g} and tau up to {np.max(tau):g}")
    # Ei(-a) - Ei(-a lam) = E1(a lam) - E1(a) = -ln lam + Ein(a lam) - Ein(a): finite at a = 0 (-ln lam) and, with
    # the products in log space, for tiny lam (1e-300) and huge a (1e300) alike
    ei = e1_difference(a, lam, 1.0)
    with np.errstate(over="ignore", under="ignore"):
        # b = sqrt(a/(λ+1)) and λb from logs: a/(λ+1) may underflow (a = 1e-300, λ = 1e300) while λb = 1
        with np.errstate(divide="ignore"):
            log_b = np.where(a > 0, 0.5 * (np.log(np.where(a > 0, a, 1.0)) - np.log1p(lam)), -np.inf)
        b = np.exp(log_b)
        lb = np.exp(np.log(lam) + log_b)
        gauss = (
            q
            * np.exp(-a * (lam / (lam + 1.0)))
            * np.sqrt(np.pi)
            / (2.0 * (lam + 1.0))
            * (erf_over_x(b) + lam * erf_over_x(lb))
        )
    I = 0.5 * np.log(lam) + 0.5 * ei + gauss
    if not np.all(np.isfinite(I)) or np.max(2.0 * I, initial=-np.inf) > 709.78:
        raise ValueError("the generated variance exceeds the float64 range at these lam, q (|q| or lam too large)")
    return np.exp(2.0 * I)
