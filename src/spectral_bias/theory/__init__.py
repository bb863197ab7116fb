"""Closed forms of the analytical theory of spectral bias (Wang & Pehlevan 2025). numpy + scipy only, float64.

Shapes broadcast: modes along one axis, times along another, e.g. ``lam[:, None]`` (d, 1) with ``tau`` (T,).
Importing this subpackage never imports torch.
"""

# --- linear-denoiser theory (issue 3: optimal denoiser, one-layer dynamics, generated variance, fits) ---
from .constants import PAPER_FIG2_LAMBDAS, SIGMA_DATA, SIGMA_MAX, SIGMA_MIN
from .branch_fits import BRANCHES, fit_branches, fit_to_dict
from .emergence import EmergenceResult, PowerLawFit, emergence_threshold, emergence_time, fit_power_law, gray_zone_mask
from .generated import (
    generated_variance_quadrature,
    heun_generated_variance,
    heun_generated_variance_from_gains,
    log_generated_variance_quadrature,
)
from .kl import kl_divergence
from .matrix import affine_dynamics, affine_rate_matrix, one_layer_weight_matrix, secular_rates
from .one_layer import (
    generated_variance_at_init,
    generated_variance_converged,
    one_layer_emergence_time,
    one_layer_generated_variance,
    one_layer_log_generated_variance,
    one_layer_rate,
    one_layer_weight,
)
from .optimal import (
    affine_dsm_loss,
    loss_floor,
    optimal_bias,
    optimal_denoiser,
    optimal_weight,
    optimal_weight_matrix,
    ridge_loss,
)
from .schedule import edm_sigma_schedule

# --- chapters 4-5 (branch ch45): contraction transient, decreasing-branch exponent, exact emergence times ---
from .transients import contraction_transient_variance, decreasing_branch_exponent, one_layer_emergence_time_exact
from . import validation

__all__ = [
    # --- constants of the protocol and branch-wise fits ---
    "BRANCHES",
    "PAPER_FIG2_LAMBDAS",
    "SIGMA_DATA",
    "SIGMA_MAX",
    "SIGMA_MIN",
    "fit_branches",
    "fit_to_dict",
    # --- linear-denoiser theory (issue 3) ---
    "EmergenceResult",
    "PowerLawFit",
    "affine_dsm_loss",
    "affine_dynamics",
    "affine_rate_matrix",
    "edm_sigma_schedule",
    "emergence_threshold",
    "emergence_time",
    "fit_power_law",
    "generated_variance_at_init",
    "generated_variance_converged",
    "generated_variance_quadrature",
    "gray_zone_mask",
    "heun_generated_variance",
    "heun_generated_variance_from_gains",
    "kl_divergence",
    "log_generated_variance_quadrature",
    "loss_floor",
    "one_layer_emergence_time",
    "one_layer_generated_variance",
    "one_layer_log_generated_variance",
    "one_layer_rate",
    "one_layer_weight",
    "one_layer_weight_matrix",
    "optimal_bias",
    "optimal_denoiser",
    "optimal_weight",
    "optimal_weight_matrix",
    "ridge_loss",
    "secular_rates",
    "validation",
    # --- chapters 4-5 (branch ch45) ---
    "contraction_transient_variance",
    "decreasing_branch_exponent",
    "one_layer_emergence_time_exact",
]

# --- deep linear, convolution, flow matching, loss weighting (issue 4, branch deep) ---
from .deep_linear import (  # noqa: E402
    deep_linear_generated_variance,
    deep_linear_rate,
    deep_linear_weight,
    two_layer_generated_variance,
    two_layer_weight,
)
from .flow_matching import (  # noqa: E402
    flow_matching_generated_variance,
    flow_matching_input_variance,
    flow_matching_optimal_weight,
    flow_matching_weight,
)
from .convolution import (  # noqa: E402
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

from .objectives import (  # noqa: E402
    eps_prediction_denoiser_weight,
    eps_prediction_generated_variance,
    eps_prediction_weight,
)
from .weighting import (  # noqa: E402
    edm_effective_learning_rate,
    edm_loss_weight,
    edm_noise_density,
    edm_preconditioning,
    preconditioned_generated_variance,
    preconditioned_weight,
)

__all__ += [
    "eps_prediction_denoiser_weight",
    "eps_prediction_generated_variance",
    "eps_prediction_weight",
    "edm_effective_learning_rate",
    "edm_loss_weight",
    "edm_noise_density",
    "edm_preconditioning",
    "preconditioned_generated_variance",
    "preconditioned_weight",
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
    "deep_linear_generated_variance",
    "deep_linear_rate",
    "deep_linear_weight",
    "two_layer_generated_variance",
    "two_layer_weight",
    "flow_matching_generated_variance",
    "flow_matching_input_variance",
    "flow_matching_optimal_weight",
    "flow_matching_weight",
]
# --- end issue 4 block ---

# weights shared across noise levels, finite training sets (chapter 12)
from .shared_weights import (  # noqa: E402
    noise_features,
    shared_generated_variance,
    shared_weight,
    shared_weight_dynamics,
)
from .finite_samples import empirical_spectrum, finite_sample_generated_variance  # noqa: E402

__all__ += [
    "noise_features",
    "shared_generated_variance",
    "shared_weight",
    "shared_weight_dynamics",
    "empirical_spectrum",
    "finite_sample_generated_variance",
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
