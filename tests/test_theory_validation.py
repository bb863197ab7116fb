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
from spectral_bias.theory import validation as V


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


# --- the checks themselves: each accepts a right input and refuses a wrong one with one line naming the argument ---


_RIGHT_AND_WRONG = [
    # (check, args before the name, keyword args, right input, expected returned value, wrong input, error, words)
    (V.as_float_array, (), {}, [1, 2], np.array([1.0, 2.0]), 1 + 0j, TypeError, "real number"),
    (V.check_finite, (), {}, [0.5, -2.0], np.array([0.5, -2.0]), [1.0, np.inf], ValueError, "finite"),
    (V.check_nonnegative, (), {}, [0.0, 3.0], np.array([0.0, 3.0]), [1.0, -0.25], ValueError, "non-negative"),
    (V.check_positive, (), {}, [0.1, 3.0], np.array([0.1, 3.0]), [1.0, 0.0], ValueError, "positive"),
    (V.check_positive_scalar, (), {}, 2.5, 2.5, np.ones(2), ValueError, "scalar"),
    (V.check_real_scalar, (), {}, -1.5, -1.5, [1.0, 2.0], ValueError, "scalar"),
    (V.check_times, (), {}, [0.0, 1.0], np.array([0.0, 1.0]), -1.0, ValueError, "non-negative"),
    (V.check_integer, (), {"min_value": 2}, 3, 3, 2.0, TypeError, "integer"),
    (V.check_integer, (), {"min_value": 2}, np.int64(2), 2, 1, ValueError, "integer >= 2"),
    (V.check_integer, (), {}, 1, 1, True, TypeError, "integer"),
]


@pytest.mark.parametrize(
    "check, pre, kw, right, expected, wrong, err, words", _RIGHT_AND_WRONG, ids=lambda v: getattr(v, "__name__", None)
)
def test_check_accepts_right_and_names_argument_on_wrong(check, pre, kw, right, expected, wrong, err, words):
    got = check(*pre, right, "my_arg", **kw)
    np.testing.assert_array_equal(got, expected)
    assert type(got) is type(expected)
    with pytest.raises(err) as info:
        check(*pre, wrong, "my_arg", **kw)
    msg = str(info.value)
    assert msg.startswith("my_arg ") and words in msg and "\n" not in msg


def test_check_in_range_closed_interval():
    np.testing.assert_array_equal(V.check_in_range([0.0, 0.5, 1.0], "t", 0.0, 1.0), [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"^t must be in \[0, 1\], got minimum -0.1$"):
        V.check_in_range([0.5, -0.1], "t", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^t must be in \[0, 1\], got maximum 1.5$"):
        V.check_in_range([1.5, 0.5], "t", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^t must be finite"):
        V.check_in_range(np.nan, "t", 0.0, 1.0)


def test_check_sigma_range_order_and_names():
    assert V.check_sigma_range(0.002, 80) == (0.002, 80.0)
    with pytest.raises(ValueError, match=r"^sigma_min must be positive"):
        V.check_sigma_range(0.0, 80.0)
    with pytest.raises(ValueError, match=r"^sigma_max must be a scalar"):
        V.check_sigma_range(0.002, [80.0, 90.0])
    with pytest.raises(ValueError, match=r"^sigma_min must be smaller than sigma_max, got sigma_min=3 >= sigma_max=2$"):
        V.check_sigma_range(3.0, 2.0)


def test_check_covariance_and_mean():
    c = V.check_covariance([[2.0, 1.0], [1.0, 2.0]], "cov")
    np.testing.assert_array_equal(c, [[2.0, 1.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match=r"^cov must be a square \(d, d\) matrix, got shape \(2, 3\)$"):
        V.check_covariance(np.ones((2, 3)), "cov")
    np.testing.assert_array_equal(V.check_mean([1.0, 2.0], 2), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"^mean must have shape \(2,\), got \(3,\)$"):
        V.check_mean(np.zeros(3), 2)


def test_check_choice_broadcastable_same_shape():
    assert V.check_choice("ode", "method", {"ode", "sde"}) == "ode"
    with pytest.raises(ValueError, match=r"^method must be one of \['ode', 'sde'\], got 'euler'$"):
        V.check_choice("euler", "method", {"ode", "sde"})
    assert V.check_broadcastable(lam=np.ones(3), tau=np.ones((2, 1))) == (2, 3)
    with pytest.raises(ValueError, match=r"^shapes do not broadcast: lam\(3,\), tau\(4,\)$"):
        V.check_broadcastable(lam=np.ones(3), tau=np.ones(4))
    V.check_same_shape(np.ones(2), np.zeros(2), "a", "b")
    with pytest.raises(ValueError, match=r"^a and b must have the same shape, got \(2,\) and \(3,\)$"):
        V.check_same_shape(np.ones(2), np.ones(3), "a", "b")


def test_guard_float_range_names_the_extreme_argument():
    @V.guard_float_range
    def grow(x, k=1.0):
        return np.exp(np.asarray(x, dtype=float) * k)

    assert grow(1.0) == pytest.approx(np.e)
    with pytest.raises(
        ValueError, match=r"^grow: the result leaves the float64 range .*extreme argument\(s\): x=1e\+300$"
    ):
        grow(1e300)


def test_modules_that_check_ranges_and_integers_name_the_argument():
    # flow-matching time t in [0, 1], deep-linear depth an integer, shared-weights node count >= 8
    from spectral_bias.theory import deep_linear_rate, flow_matching_weight, noise_features

    with pytest.raises(ValueError, match=r"^t must be in \[0, 1\], got maximum 1.5$"):
        flow_matching_weight(1.0, 1.5, 1.0)
    with pytest.raises(TypeError, match=r"^depth must be an integer, got float 2.0$"):
        deep_linear_rate(1.0, 1.0, depth=2.0)
    with pytest.raises(ValueError, match=r"^n_features must be an integer >= 1, got 0$"):
        noise_features(1.0, 0)
    with pytest.raises(ValueError, match=r"^sigma must be positive, got minimum 0$"):
        noise_features([1.0, 0.0], 1)
