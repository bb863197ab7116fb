"""Closed forms of the analytical theory of spectral bias (Wang & Pehlevan 2025). numpy + scipy only, float64.

Shapes broadcast: modes along one axis, times along another, e.g. ``lam[:, None]`` (d, 1) with ``tau`` (T,).
Importing this subpackage never imports torch. The imports below are grouped by topic, in the order the book
introduces them; ``__all__`` lists the same names, sorted.
"""

from . import validation

# The protocol: EDM constants, noise schedule, loss weighting and preconditioning (chapters 1, 3, 8).
from .constants import PAPER_FIG2_LAMBDAS, SIGMA_DATA, SIGMA_MAX, SIGMA_MIN
from .schedule import edm_sigma_schedule
from .weighting import (
    edm_effective_learning_rate,
    edm_loss_weight,
    edm_noise_density,
    edm_preconditioning,
    preconditioned_generated_variance,
    preconditioned_weight,
)

# The optimal denoiser and the denoising loss (chapter 2).
from .optimal import (
    affine_dsm_loss,
    loss_floor,
    optimal_bias,
    optimal_denoiser,
    optimal_weight,
    optimal_weight_matrix,
    ridge_loss,
)

# One-layer linear denoiser: weight dynamics and generated variance (chapters 3-5).
from .one_layer import (
    generated_variance_at_init,
    generated_variance_converged,
    one_layer_emergence_time,
    one_layer_generated_variance,
    one_layer_log_generated_variance,
    one_layer_rate,
    one_layer_weight,
)
from .matrix import affine_dynamics, affine_rate_matrix, one_layer_weight_matrix, secular_rates
from .transients import contraction_transient_variance, decreasing_branch_exponent, one_layer_emergence_time_exact

# Generated variance of any linear denoiser: quadrature of the PF-ODE and the Heun sampler's exact recursion.
from .generated import (
    generated_variance_quadrature,
    heun_generated_variance,
    heun_generated_variance_from_gains,
    log_generated_variance_quadrature,
)

# Emergence times, the inverse-variance law and branch-wise power-law fits (chapters 4-5, 9-11).
from .emergence import EmergenceResult, PowerLawFit, emergence_threshold, emergence_time, fit_power_law, gray_zone_mask
from .branch_fits import BRANCHES, fit_branches, fit_to_dict, trajectory_exponents
from .kl import kl_divergence

# Other parametrisations and objectives: deep linear, ε-prediction, flow matching (chapter 6).
from .deep_linear import (
    deep_linear_generated_variance,
    deep_linear_rate,
    deep_linear_weight,
    two_layer_generated_variance,
    two_layer_weight,
)
from .objectives import (
    eps_prediction_denoiser_weight,
    eps_prediction_generated_variance,
    eps_prediction_weight,
)
from .flow_matching import (
    flow_matching_generated_variance,
    flow_matching_input_variance,
    flow_matching_optimal_weight,
    flow_matching_weight,
)

# Convolutional denoisers: circulant and local patch filters (chapters 7, 10).
from .convolution import (
    basis_variances_from_fourier,
    circulant_gains_preconditioned,
    circulant_generated_variance,
    circulant_weight,
    fourier_variances,
    fourier_variances_from_samples,
    patch_covariance,
    patch_filter,
    patch_gains,
    patch_gains_preconditioned,
    patch_generated_variance,
    patch_offsets,
    shift_averaged_covariance,
)

# Beyond the theory's assumptions: weights shared across σ, finite training sets (chapter 12).
from .shared_weights import noise_features, shared_generated_variance, shared_weight, shared_weight_dynamics
from .finite_samples import empirical_spectrum, finite_sample_generated_variance

__all__ = [
    "BRANCHES",
    "PAPER_FIG2_LAMBDAS",
    "SIGMA_DATA",
    "SIGMA_MAX",
    "SIGMA_MIN",
    "EmergenceResult",
    "PowerLawFit",
    "affine_dsm_loss",
    "affine_dynamics",
    "affine_rate_matrix",
    "basis_variances_from_fourier",
    "circulant_gains_preconditioned",
    "circulant_generated_variance",
    "circulant_weight",
    "contraction_transient_variance",
    "decreasing_branch_exponent",
    "deep_linear_generated_variance",
    "deep_linear_rate",
    "deep_linear_weight",
    "edm_effective_learning_rate",
    "edm_loss_weight",
    "edm_noise_density",
    "edm_preconditioning",
    "edm_sigma_schedule",
    "emergence_threshold",
    "emergence_time",
    "empirical_spectrum",
    "eps_prediction_denoiser_weight",
    "eps_prediction_generated_variance",
    "eps_prediction_weight",
    "finite_sample_generated_variance",
    "fit_branches",
    "fit_power_law",
    "fit_to_dict",
    "flow_matching_generated_variance",
    "flow_matching_input_variance",
    "flow_matching_optimal_weight",
    "flow_matching_weight",
    "fourier_variances",
    "fourier_variances_from_samples",
    "generated_variance_at_init",
    "generated_variance_converged",
    "generated_variance_quadrature",
    "gray_zone_mask",
    "heun_generated_variance",
    "heun_generated_variance_from_gains",
    "kl_divergence",
    "log_generated_variance_quadrature",
    "loss_floor",
    "noise_features",
    "one_layer_emergence_time",
    "one_layer_emergence_time_exact",
    "one_layer_generated_variance",
    "one_layer_log_generated_variance",
    "one_layer_rate",
    "one_layer_weight",
    "one_layer_weight_matrix",
    "optimal_bias",
    "optimal_denoiser",
    "optimal_weight",
    "optimal_weight_matrix",
    "patch_covariance",
    "patch_filter",
    "patch_gains",
    "patch_gains_preconditioned",
    "patch_generated_variance",
    "patch_offsets",
    "preconditioned_generated_variance",
    "preconditioned_weight",
    "ridge_loss",
    "secular_rates",
    "shared_generated_variance",
    "shared_weight",
    "shared_weight_dynamics",
    "shift_averaged_covariance",
    "trajectory_exponents",
    "two_layer_generated_variance",
    "two_layer_weight",
    "validation",
]


def _guard_public_functions():
    """Every public function refuses, with a one-line ValueError naming the extreme arguments, a result that
    would leave the float64 range (overflow, 0/0, inf - inf) instead of returning NaN/inf or warning: see
    validation.guard_float_range. Applied once, here, to the names in __all__."""
    import inspect as _inspect

    g = globals()
    for name in __all__:
        f = g.get(name)
        if _inspect.isfunction(f) and not getattr(f, "__wrapped__", None):
            g[name] = validation.guard_float_range(f, nan_ok="emergence_time" in name)


_guard_public_functions()
