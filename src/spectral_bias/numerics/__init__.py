"""Independent numerical checks of the theory: explicit gradient descent on samples, ODE solves of the gradient
flow and a Heun PF-ODE sampler for linear denoisers (numpy/scipy; no torch)."""

from .gradient_descent import GDTrajectory, gd_affine_denoiser
from .ode import gradient_flow_ode
from .sampler import heun_sampler_linear

__all__ = ["GDTrajectory", "gd_affine_denoiser", "gradient_flow_ode", "heun_sampler_linear"]

# --- deep linear, convolution, flow matching (issue 4, branch deep) ---
from .deep_gd import factor_gradient_flow, loss_gradient_W, symmetric_gradient_flow  # noqa: E402
from .flow_sampler import flow_matching_moments, heun_linear_flow, regression_gradient_flow  # noqa: E402
from .conv_gd import filter_matrix, optimal_taps, shift_matrices, tap_gradient_flow  # noqa: E402

__all__ += [
    "filter_matrix",
    "optimal_taps",
    "shift_matrices",
    "tap_gradient_flow",
    "factor_gradient_flow",
    "loss_gradient_W",
    "symmetric_gradient_flow",
    "flow_matching_moments",
    "heun_linear_flow",
    "regression_gradient_flow",
]
# --- end issue 4 block ---

# --- chapter 12: EDM-preconditioned linear models trained on samples with GD or Adam ---
from .linear_training import (  # noqa: E402
    LinearTraining,
    heun_generated_covariance,
    train_preconditioned_linear,
    weights_at_nodes,
)

__all__ += ["LinearTraining", "heun_generated_covariance", "train_preconditioned_linear", "weights_at_nodes"]
