"""Other regression objectives for a linear per-sigma model: epsilon-prediction (App. C.4; derived here).

Every objective is a linear regression E||W x - y||^2 whose input is the noisy sample, so (Lemma C.1) the input
covariance sets the rate and only the target changes: epsilon-prediction regresses the noise z from
x = x_0 + sigma z. Per mode, with input variance lam + sigma^2 and E[z x] = sigma,

    w_eps(sigma, tau) = f + (q - f) exp(-2 eta tau (lam + sigma^2)),   f = sigma/(lam + sigma^2),

and the implied denoiser D = x - sigma eps_hat has weight w_D = 1 - sigma w_eps = K + (Q(sigma) - K) e^{...}:
the one-layer law (eq. 7) with the sigma-dependent initial weight Q(sigma) = 1 - sigma q (q = 0: D = identity).
"""

from __future__ import annotations

import numpy as np

from ._special import erf_over_x
from .constants import SIGMA_MAX, SIGMA_MIN
from .one_layer import one_layer_log_generated_variance
from .validation import check_finite, check_nonnegative, check_positive, check_positive_scalar, check_sigma_range

__all__ = ["eps_prediction_denoiser_weight", "eps_prediction_generated_variance", "eps_prediction_weight"]


def eps_prediction_weight(lam, sigma, tau, *, eta=1.0, q=0.0):
    """Per-mode weight of a linear epsilon-predictor trained by gradient flow (rate 2 eta (lam + sigma^2)).

    lam (>= 0), sigma (> 0), tau (>= 0), q (finite, initial epsilon-weight) broadcast; eta > 0.
    Returns the broadcast shape. Raises ValueError/TypeError naming the argument.
    """
    lam = check_nonnegative(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    tau = check_nonnegative(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    with np.errstate(over="ignore", under="ignore"):  # σ² or the exponent overflowing give the exact limit 0
        f = sigma / (lam + sigma**2)
        return f + (q - f) * np.exp(-2.0 * eta * tau * (lam + sigma**2))


def eps_prediction_denoiser_weight(lam, sigma, tau, *, eta=1.0, q=0.0):
    """Denoiser weight implied by an epsilon-predictor, w_D = 1 - sigma w_eps (same arguments and shapes)."""
    sigma = check_positive(sigma, "sigma")
    return 1.0 - sigma * eps_prediction_weight(lam, sigma, tau, eta=eta, q=q)


def eps_prediction_generated_variance(lam, tau, *, eta=1.0, q=0.0, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX):
    """Generated variance of the PF-ODE driven by a linear epsilon-predictor during training (derived here).

    With 1 - w_D(s) = (1 - K)(1 - E) + s q E, E = exp(-a(lam + s^2)), a = 2 eta tau:

        ln gen_var = [Prop. 4.2 with Q = 1] - 2 q e^{-a lam} int_{smin}^{smax} e^{-a s^2} ds,
        int e^{-a s^2} ds = sqrt(pi)/2 [smax erf(sqrt(a) smax)/(sqrt(a) smax) - (same at smin)].

    tau = 0 gives sigma_max^2 exp(-2 q (sigma_max - sigma_min)) (q = 0: D = identity, samples keep variance
    sigma_max^2); tau -> inf gives the usual sigma_max^2 (lam + sigma_min^2)/(lam + sigma_max^2).
    lam (>= 0), tau (>= 0), q broadcast; returns the broadcast shape. Raises ValueError/TypeError on bad input.
    """
    lam = check_nonnegative(lam, "lam")
    tau = check_nonnegative(tau, "tau")
    q = check_finite(q, "q")
    eta = check_positive_scalar(eta, "eta")
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    with np.errstate(over="ignore"):
        a = 2.0 * eta * tau
    if not np.all(np.isfinite(a)):
        raise ValueError(f"eta * tau must be finite, got eta={eta:g} and tau up to {np.max(tau):g}")
    ra = np.sqrt(a)
    gauss = 0.5 * np.sqrt(np.pi) * (smax * erf_over_x(ra * smax) - smin * erf_over_x(ra * smin))
    base = one_layer_log_generated_variance(lam, tau, eta=eta, q=1.0, sigma_min=smin, sigma_max=smax)
    with np.errstate(over="ignore", under="ignore"):  # a·λ overflowing: e^{-aλ} = 0 exactly
        decay = np.exp(-a * lam)
    lv = base - 2.0 * q * decay * gauss
    if np.size(lv) and np.max(lv) > 709.78:
        raise ValueError(
            f"the generated variance exceeds the float64 range (ln = {np.max(lv):.6g}) at these q, sigma_max"
        )
    return np.exp(lv)
