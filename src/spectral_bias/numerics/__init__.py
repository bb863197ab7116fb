"""Independent numerical checks of the theory: explicit gradient descent on samples, ODE solves of the gradient
flow and a Heun PF-ODE sampler for linear denoisers (numpy/scipy; no torch)."""

from .gradient_descent import GDTrajectory, gd_affine_denoiser
from .ode import gradient_flow_ode
from .sampler import heun_sampler_linear

__all__ = ["GDTrajectory", "gd_affine_denoiser", "gradient_flow_ode", "heun_sampler_linear"]
