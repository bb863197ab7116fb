"""Closed forms of the spectral-bias theory (numpy + scipy only; never imports torch)."""

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
# --- end issue 4 block ---
