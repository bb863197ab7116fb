"""Independent numerical checks of the theory: explicit gradient descent on samples, ODE solves of the gradient
flow and Heun PF-ODE samplers for linear denoisers (numpy/scipy; no torch). Imports are grouped by topic, in the
book's order; ``__all__`` lists the same names, sorted."""

# One-layer linear denoiser: gradient descent on samples, the gradient-flow ODE, the Heun sampler (chapters 2-5).
from .gradient_descent import GDTrajectory, gd_affine_denoiser
from .ode import gradient_flow_ode
from .sampler import heun_sampler_linear

# Deep linear and flow-matching models (chapter 6).
from .deep_gd import factor_gradient_flow, loss_gradient_W, symmetric_gradient_flow
from .flow_sampler import flow_matching_moments, heun_linear_flow, regression_gradient_flow

# Convolutional filters trained by gradient flow (chapter 7).
from .conv_gd import filter_matrix, optimal_taps, shift_matrices, tap_gradient_flow

# EDM-preconditioned linear models trained on samples with GD or Adam (chapter 12).
from .linear_training import LinearTraining, heun_generated_covariance, train_preconditioned_linear, weights_at_nodes

__all__ = [
    "GDTrajectory",
    "LinearTraining",
    "factor_gradient_flow",
    "filter_matrix",
    "flow_matching_moments",
    "gd_affine_denoiser",
    "gradient_flow_ode",
    "heun_generated_covariance",
    "heun_linear_flow",
    "heun_sampler_linear",
    "loss_gradient_W",
    "optimal_taps",
    "regression_gradient_flow",
    "shift_matrices",
    "symmetric_gradient_flow",
    "tap_gradient_flow",
    "train_preconditioned_linear",
    "weights_at_nodes",
]
