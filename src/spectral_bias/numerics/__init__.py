"""Independent numerical checks of the theory (quadrature, ODE solves, explicit gradient descent, samplers)."""

# --- deep linear, convolution, flow matching (issue 4, branch deep) ---
from .deep_gd import factor_gradient_flow, loss_gradient_W, symmetric_gradient_flow  # noqa: E402
from .flow_sampler import flow_matching_moments, heun_linear_flow, regression_gradient_flow  # noqa: E402
# --- end issue 4 block ---
