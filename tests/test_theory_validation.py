"""Bad input raises ValueError (or TypeError) naming the offending argument: one test per rule."""

import numpy as np
import pytest

from spectral_bias.numerics import gd_affine_denoiser, heun_sampler_linear
from spectral_bias.theory import (
    affine_dynamics,
    edm_sigma_schedule,
    emergence_time,
    fit_power_law,
    generated_variance_quadrature,
    kl_divergence,
    one_layer_generated_variance,
    one_layer_weight,
    one_layer_weight_matrix,
    optimal_weight,
)


def test_negative_lambda():
    with pytest.raises(ValueError, match="lam"):
        one_layer_generated_variance(-1.0, 1.0)


def test_nonfinite_lambda():
    with pytest.raises(ValueError, match="lam"):
        one_layer_generated_variance(np.array([1.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="lam"):
        optimal_weight(np.inf, 1.0)


def test_sigma_min_not_below_sigma_max():
    with pytest.raises(ValueError, match="sigma_min"):
        one_layer_generated_variance(1.0, 1.0, sigma_min=80.0, sigma_max=80.0)
    with pytest.raises(ValueError, match="sigma_min"):
        generated_variance_quadrature(one_layer_weight, 1.0, 1.0, sigma_min=1.0, sigma_max=0.5)


def test_nonpositive_sigma():
    with pytest.raises(ValueError, match="sigma"):
        one_layer_weight(1.0, 0.0, 1.0)


def test_eta_not_positive():
    with pytest.raises(ValueError, match="eta"):
        one_layer_weight(1.0, 1.0, 1.0, eta=0.0)
    with pytest.raises(ValueError, match="eta"):
        one_layer_generated_variance(1.0, 1.0, eta=-1.0)


def test_negative_or_nonfinite_tau():
    with pytest.raises(ValueError, match="tau"):
        one_layer_generated_variance(1.0, -1e-3)
    with pytest.raises(ValueError, match="tau"):
        one_layer_weight(1.0, 1.0, np.inf)


def test_mismatched_shapes():
    with pytest.raises(ValueError, match="broadcast"):
        one_layer_generated_variance(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="trajectories"):
        emergence_time(np.arange(1.0, 5.0), np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="lam and tau_star"):
        fit_power_law(np.ones(4), np.ones(5))


def test_non_symmetric_covariance():
    with pytest.raises(ValueError, match="cov.*symmetric"):
        one_layer_weight_matrix(np.array([[1.0, 0.5], [0.0, 1.0]]), 1.0, 1.0)


def test_non_psd_covariance():
    with pytest.raises(ValueError, match="cov.*positive semi-definite"):
        affine_dynamics(np.array([[1.0, 2.0], [2.0, 1.0]]), np.zeros(2), 1.0, 1.0)


def test_wrong_mean_shape():
    with pytest.raises(ValueError, match="mean"):
        affine_dynamics(np.eye(2), np.zeros(3), 1.0, 1.0)


def test_unknown_names():
    with pytest.raises(ValueError, match="criterion"):
        emergence_time(np.arange(1.0, 4.0), np.ones(3), 1.0, criterion="arithmetic")
    with pytest.raises(ValueError, match="direction"):
        kl_divergence(1.0, 1.0, direction="forward")
    with pytest.raises(ValueError, match="exclude"):
        fit_power_law(np.ones(4), np.ones(4), exclude="grey")
    with pytest.raises(ValueError, match="noise"):
        gd_affine_denoiser(np.ones((3, 2)), 1.0, step_size=0.1, n_steps=1, noise="none")


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="lam"):
        optimal_weight("abc", 1.0)


def test_nonpositive_variances_in_kl():
    with pytest.raises(ValueError, match="target_var"):
        kl_divergence(1.0, 0.0)


def test_missing_companions_for_gray_zone():
    with pytest.raises(ValueError, match="target"):
        fit_power_law(np.ones(4), np.ones(4), exclude="gray-zone")


def test_schedule_and_sampler_arguments():
    with pytest.raises(ValueError, match="n_steps"):
        edm_sigma_schedule(1)
    with pytest.raises(ValueError, match="rho"):
        edm_sigma_schedule(10, rho=0)
    with pytest.raises(ValueError, match="x_init"):
        heun_sampler_linear(lambda s: np.ones(2))
    with pytest.raises(ValueError, match="denoiser"):
        heun_sampler_linear(lambda s: np.ones(3), 4, 2, n_steps=3)
    with pytest.raises(ValueError, match="times"):
        emergence_time(np.array([1.0, 1.0, 2.0]), np.ones(3), 1.0)


def test_importing_theory_and_numerics_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, spectral_bias.theory, spectral_bias.numerics; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
