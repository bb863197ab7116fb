"""EDM loss weighting and preconditioning as a sigma-dependent learning rate and initial weight (Sec. 3.8 of the
theory notes; App. D.1.2 of Wang & Pehlevan 2025 treats the residual connection; derived and checked here).

If the network inside EDM preconditioning is linear per sigma,
D = c_skip x + c_out (V c_in x + beta), then W = c_skip I + c_out c_in V, and gradient flow on V with loss
weight lambda(sigma) and noise-sampling density p(sigma) moves W by

    dW/dtau = -eta p(sigma) lambda(sigma) c_out^2 c_in^2 grad_W L_sigma.

With EDM's choices lambda c_out^2 = 1, so eta_eff(sigma) = eta p(sigma) / (sigma^2 + sigma_data^2); and V(0) = 0
gives the aligned initial weight Q(sigma) = c_skip(sigma). The density p is that of ln sigma ~ N(P_mean, P_std^2)
(per unit of ln sigma: the model keeps a separate parameter per bin of equal width in ln sigma; another binning
only rescales eta). No closed form: the generated variance is integrated numerically over sigma.
"""

from __future__ import annotations

import numpy as np

from .constants import SIGMA_DATA, SIGMA_MAX, SIGMA_MIN
from .generated import log_generated_variance_quadrature
from .validation import check_finite, check_nonnegative, check_positive, check_positive_scalar, check_sigma_range

__all__ = [
    "edm_effective_learning_rate",
    "edm_loss_weight",
    "edm_noise_density",
    "edm_preconditioning",
    "preconditioned_generated_variance",
    "preconditioned_weight",
]

P_MEAN, P_STD = -1.2, 1.2  # log-normal noise sampling of EDM training


def edm_preconditioning(sigma, *, sigma_data=SIGMA_DATA):
    """(c_skip, c_out, c_in) of Karras et al. (2022): sigma_d^2/(s^2 + sigma_d^2), s sigma_d/sqrt(s^2 + sigma_d^2),
    1/sqrt(s^2 + sigma_d^2). sigma > 0 array, sigma_data > 0 scalar. Raises ValueError on bad input."""
    sigma = check_positive(sigma, "sigma")
    sd = check_positive_scalar(sigma_data, "sigma_data")
    r = np.sqrt(sigma**2 + sd**2)
    return sd**2 / r**2, sigma * sd / r, 1.0 / r


def edm_loss_weight(sigma, *, sigma_data=SIGMA_DATA):
    """lambda(sigma) = (sigma^2 + sigma_d^2)/(sigma sigma_d)^2 (EDM loss weight)."""
    sigma = check_positive(sigma, "sigma")
    sd = check_positive_scalar(sigma_data, "sigma_data")
    return (sigma**2 + sd**2) / (sigma * sd) ** 2


def edm_noise_density(sigma, *, p_mean=P_MEAN, p_std=P_STD):
    """Density of ln sigma ~ N(p_mean, p_std^2), evaluated at ln sigma (per unit ln sigma)."""
    sigma = check_positive(sigma, "sigma")
    p_mean = float(check_finite(p_mean, "p_mean"))
    p_std = check_positive_scalar(p_std, "p_std")
    z = (np.log(sigma) - p_mean) / p_std
    return np.exp(-0.5 * z**2) / (p_std * np.sqrt(2.0 * np.pi))


def edm_effective_learning_rate(sigma, *, eta=1.0, p_mean=P_MEAN, p_std=P_STD, sigma_data=SIGMA_DATA):
    """eta_eff(sigma) = eta p(sigma) lambda(sigma) c_out^2 c_in^2 = eta p(sigma)/(sigma^2 + sigma_d^2)."""
    eta = check_positive_scalar(eta, "eta")
    _, c_out, c_in = edm_preconditioning(sigma, sigma_data=sigma_data)
    lw = edm_loss_weight(sigma, sigma_data=sigma_data)
    return eta * edm_noise_density(sigma, p_mean=p_mean, p_std=p_std) * lw * c_out**2 * c_in**2


def preconditioned_weight(lam, sigma, tau, *, eta=1.0, p_mean=P_MEAN, p_std=P_STD, sigma_data=SIGMA_DATA):
    """Per-mode denoiser weight of an EDM-preconditioned, EDM-weighted linear model from V(0) = 0:

        w = K + (c_skip(sigma) - K) exp(-2 eta_eff(sigma) (lam + sigma^2) tau),  K = lam/(lam + sigma^2).

    lam (>= 0), sigma (> 0), tau (>= 0) broadcast. Raises ValueError/TypeError naming the argument.
    """
    lam = check_nonnegative(lam, "lam")
    sigma = check_positive(sigma, "sigma")
    tau = check_nonnegative(tau, "tau")
    c_skip, _, _ = edm_preconditioning(sigma, sigma_data=sigma_data)
    rate = edm_effective_learning_rate(sigma, eta=eta, p_mean=p_mean, p_std=p_std, sigma_data=sigma_data)
    K = lam / (lam + sigma**2)
    return K + (c_skip - K) * np.exp(-2.0 * rate * (lam + sigma**2) * tau)


def preconditioned_generated_variance(
    lam, tau, *, eta=1.0, p_mean=P_MEAN, p_std=P_STD, sigma_data=SIGMA_DATA, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX
):
    """Generated variance for :func:`preconditioned_weight`, by quadrature of ln gen_var = ln smax^2 -
    2 int (1 - w)/s ds (Lemma 4.1). At tau = 0: sigma_max^2 (sigma_min^2 + sigma_d^2)/(sigma_max^2 + sigma_d^2)
    (the c_skip-only denoiser). lam (>= 0) and tau (>= 0) broadcast. Raises ValueError on bad input."""
    smin, smax = check_sigma_range(sigma_min, sigma_max)
    return np.exp(
        log_generated_variance_quadrature(
            preconditioned_weight,
            lam,
            tau,
            sigma_min=smin,
            sigma_max=smax,
            n_panels=64,
            n_per_panel=16,
            eta=eta,
            p_mean=p_mean,
            p_std=p_std,
            sigma_data=sigma_data,
        )
    )
