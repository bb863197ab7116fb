"""Fuzz test of the whole public theory API (every function in ``spectral_bias.theory.__all__``).

Each function is called from a valid base call with one argument replaced by a bad value (NaN, ±inf, complex,
bool, string, None, nested junk) or an extreme valid-looking one (0, ±1e300, 1e-300, the smallest subnormal).
With every warning an error, the only acceptable outcomes are a finite result or a ValueError/TypeError whose
message names the replaced argument. A test fails if a function is missing from the base table, so a new public
function must be added here.
"""

import inspect
import warnings

import numpy as np
import pytest

import spectral_bias.theory as T

LAM = np.array([2.0, 0.5, 0.05])
COV = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]])
MEAN = np.array([0.1, -0.2, 0.3])
TIMES = np.array([0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0])
TRAJ = np.stack([0.01 + (l - 0.01) * (1 - np.exp(-l * TIMES)) for l in LAM])  # (3, 8), rising to lam
LAM_F = np.array([3.0, 1.0, 0.5, 0.2, 0.5, 1.0])  # a 1-D circulant spectrum (symmetric)
TAU_STAR = np.array([0.4, 1.1, 3.0, 9.5, 30.0])
LAM5 = np.array([3.0, 1.0, 0.3, 0.1, 0.03])
SIG = T.edm_sigma_schedule(6, append_zero=True)
EDM = {"eta": 1.0, "p_mean": -1.2, "p_std": 1.2, "sigma_data": 0.5}

# function name -> (positional args, keyword args) of a valid call
BASE = {
    "affine_dsm_loss": ((np.eye(3) * 0.5, np.zeros(3), COV, MEAN, 0.7), {}),
    "affine_dynamics": ((COV, MEAN, 0.7, 1.5), {}),
    "affine_rate_matrix": ((COV, MEAN, 0.7), {}),
    "edm_sigma_schedule": ((10,), {"sigma_min": 0.002, "sigma_max": 80.0, "rho": 7}),
    "emergence_threshold": ((LAM, np.full(3, 0.01)), {}),
    "emergence_time": ((TIMES, TRAJ, LAM), {}),
    "fit_power_law": ((LAM5, TAU_STAR), {"n_boot": 50}),
    "generated_variance_at_init": ((), {"q": 0.1, "sigma_min": 0.002, "sigma_max": 80.0}),
    "generated_variance_converged": ((LAM,), {"sigma_min": 0.002, "sigma_max": 80.0}),
    "generated_variance_quadrature": ((T.one_layer_weight, LAM, 1.0), {"q": 0.1}),
    "gray_zone_mask": ((LAM, np.full(3, 0.3)), {"low": 0.5, "high": 2.0}),
    "kl_divergence": ((LAM, np.full(3, 0.5)), {}),
    "log_generated_variance_quadrature": ((T.one_layer_weight, LAM, 1.0), {"q": 0.1, "n_panels": 8}),
    "loss_floor": ((LAM, 0.7), {}),
    "one_layer_emergence_time": ((LAM,), {"eta": 1.0, "q": 0.1, "n_grid": 200}),
    "one_layer_generated_variance": ((LAM, 1.0), {"eta": 1.0, "q": 0.1, "sigma_min": 0.002, "sigma_max": 80.0}),
    "one_layer_log_generated_variance": ((LAM, 1.0), {"eta": 1.0, "q": 0.1, "sigma_min": 0.002, "sigma_max": 80.0}),
    "one_layer_rate": ((LAM, 0.7), {"eta": 1.0}),
    "one_layer_weight": ((LAM, 0.7, 1.0), {"eta": 1.0, "q": 0.1}),
    "one_layer_weight_matrix": ((COV, 0.7, 1.0), {"eta": 1.0}),
    "optimal_bias": ((COV, MEAN, 0.7), {}),
    "optimal_denoiser": ((np.ones((2, 3)), MEAN, COV, 0.7), {}),
    "optimal_weight": ((LAM, 0.7), {}),
    "optimal_weight_matrix": ((COV, 0.7), {}),
    "ridge_loss": ((0.3, LAM, 0.7), {}),
    "secular_rates": ((COV, MEAN, 0.7), {}),
    "contraction_transient_variance": ((1.0,), {"eta": 1.0, "q": 0.1, "sigma_min": 0.002}),
    "decreasing_branch_exponent": ((0.3,), {}),
    "one_layer_emergence_time_exact": ((LAM,), {"eta": 1.0, "q": 0.1}),
    "eps_prediction_denoiser_weight": ((LAM, 0.7, 1.0), {"eta": 1.0, "q": 0.1}),
    "eps_prediction_generated_variance": ((LAM, 1.0), {"eta": 1.0, "q": 0.1, "sigma_min": 0.002, "sigma_max": 80.0}),
    "eps_prediction_weight": ((LAM, 0.7, 1.0), {"eta": 1.0, "q": 0.1}),
    "edm_effective_learning_rate": ((0.7,), {"eta": 1.0, "p_mean": -1.2, "p_std": 1.2, "sigma_data": 0.5}),
    "edm_loss_weight": ((0.7,), {"sigma_data": 0.5}),
    "edm_noise_density": ((0.7,), {"p_mean": -1.2, "p_std": 1.2}),
    "edm_preconditioning": ((0.7,), {"sigma_data": 0.5}),
    "preconditioned_generated_variance": (
        (LAM, 1.0),
        {"eta": 1.0, "p_mean": -1.2, "p_std": 1.2, "sigma_data": 0.5, "sigma_min": 0.002, "sigma_max": 80.0},
    ),
    "preconditioned_weight": ((LAM, 0.7, 1.0), {"eta": 1.0, "p_mean": -1.2, "p_std": 1.2, "sigma_data": 0.5}),
    "circulant_generated_variance": ((LAM_F, 1.0), {"eta": 1.0, "q": 0.1, "sigma_min": 0.002, "sigma_max": 80.0}),
    "circulant_weight": ((LAM_F, 0.7, 1.0), {"eta": 1.0, "q": 0.1}),
    "fourier_variances": ((np.eye(6) + 0.1, (6,)), {}),
    "fourier_variances_from_samples": ((np.random.default_rng(0).normal(size=(20, 6)),), {}),
    "patch_covariance": ((LAM_F, 3), {}),
    "patch_filter": ((LAM_F, 3, 0.7, 1.0), {"eta": 1.0, "q": 0.1}),
    "patch_gains": ((LAM_F, 3, 0.7, 1.0), {"eta": 1.0, "q": 0.1}),
    "patch_generated_variance": ((LAM_F, 3, 1.0), {"eta": 1.0, "q": 0.1, "n_panels": 4, "n_per_panel": 4}),
    "patch_offsets": ((3, 1), {}),
    "shift_averaged_covariance": ((LAM_F,), {}),
    "deep_linear_generated_variance": ((LAM, 1.0), {"eta": 1.0, "q": 0.1, "depth": 2, "n_panels": 8}),
    "deep_linear_rate": ((LAM, 0.7), {"eta": 1.0, "depth": 2}),
    "deep_linear_weight": ((LAM, 0.7, 1.0), {"eta": 1.0, "q": 0.1, "depth": 2}),
    "two_layer_generated_variance": ((LAM, 1.0), {"eta": 1.0, "q": 0.1}),
    "two_layer_weight": ((LAM, 0.7, 1.0), {"eta": 1.0, "q": 0.1}),
    "flow_matching_generated_variance": ((LAM, 1.0), {"eta": 1.0, "q": 0.1}),
    "flow_matching_input_variance": ((LAM, 0.4), {}),
    "flow_matching_optimal_weight": ((LAM, 0.4), {}),
    "flow_matching_weight": ((LAM, 0.4, 1.0), {"eta": 1.0, "q": 0.1}),
    "basis_variances_from_fourier": ((LAM_F, np.eye(6)), {}),
    "circulant_gains_preconditioned": ((LAM_F, 0.7, 1.0), EDM),
    "patch_gains_preconditioned": ((LAM_F, 3, 0.7, 1.0), EDM),
    "heun_generated_variance": ((T.preconditioned_weight, LAM, 1.0, SIG), {}),
    "heun_generated_variance_from_gains": ((lambda s: np.full(3, 0.5), SIG), {}),
    "fit_branches": ((LAM5, TAU_STAR, np.array(["increasing"] * 5)), {"n_boot": 50}),
    "fit_to_dict": ((T.fit_power_law(LAM5, TAU_STAR, n_boot=50),), {}),
    "trajectory_exponents": ((TIMES, TRAJ, LAM), {"n_boot": 50}),
    "noise_features": ((0.7, 2), {"p_mean": -1.2, "p_std": 1.2}),
    "shared_weight": ((LAM, 0.7, 1.0), {"eta": 1.0, "n_features": 1, "n_nodes": 24}),
    "shared_weight_dynamics": ((LAM,), {"n_features": 2, "n_nodes": 24}),
    "shared_generated_variance": ((LAM, 1.0), {"eta": 1.0, "n_features": 1, "sampler_steps": 6}),
    "empirical_spectrum": ((np.random.default_rng(0).normal(size=(20, 3)),), {}),
    "finite_sample_generated_variance": (
        (np.random.default_rng(0).normal(size=(20, 3)), np.array([1.0]), np.eye(3)),
        {"q": 0.1, "eta": 1.0, "sampler_steps": 6},
    ),
}

FUNCTIONS = sorted(n for n in T.__all__ if inspect.isfunction(getattr(T, n)))


class _Junk:
    pass


BAD = {
    "nan": np.nan,
    "inf": np.inf,
    "-inf": -np.inf,
    "complex": 1.0 + 1e-3j,
    "complex-array": np.array([1 + 0j]),
    "bool": True,
    "string": "1.0",
    "bytes": b"1",
    "list-of-str": ["a"],
    "object": _Junk(),
    "nested": [[1.0], [2.0, 3.0]],
    "nan-array": np.array([1.0, np.nan]),
}
EXTREME = {"zero": 0.0, "tiny": 1e-300, "subnormal": 5e-324, "huge": 1e300, "-huge": -1e300, "-one": -1.0}
# arguments that may be None (their documented default)
OPTIONAL = {"w0", "b0", "initial", "target", "trajectories", "smooth", "generated_mean", "target_mean", "sampler_steps"}


def _arguments(name):
    args, kw = BASE[name]
    params = list(inspect.signature(getattr(T, name)).parameters)
    pos = {p: i for i, p in enumerate(params[: len(args)])}
    return args, kw, pos


def _fuzzable(name):
    args, kw, pos = _arguments(name)
    out = []
    for p, i in pos.items():
        if not callable(args[i]):
            out.append(p)
    out += [k for k, v in kw.items() if not isinstance(v, str)]
    return out


def _call(name, param, value):
    args, kw, pos = _arguments(name)
    args, kw = list(args), dict(kw)
    if param in pos:
        args[pos[param]] = value
    else:
        kw[param] = value
    return getattr(T, name)(*args, **kw)


def _finite(result):
    if isinstance(result, tuple):  # NamedTuple results: NaN marks "no crossing"/"excluded" by contract
        return True
    if isinstance(result, dict):  # fit dicts (None: too few modes); their numbers must be finite
        vals = [v for v in result.values() if v is not None]
        return all(_finite(v) if isinstance(v, dict) else np.all(np.isfinite(np.asarray(v, dtype=float))) for v in vals)
    arrs = result if isinstance(result, (list, tuple)) else [result]
    return all(np.all(np.isfinite(np.asarray(a, dtype=float))) for a in arrs)


def test_every_public_function_is_fuzzed():
    assert sorted(BASE) == FUNCTIONS


@pytest.mark.parametrize("name", FUNCTIONS)
def test_base_call_is_valid_and_finite(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = getattr(T, name)(*BASE[name][0], **BASE[name][1])
    assert _finite(res)


def _check(name, param, value, label, must_fail):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            res = _call(name, param, value)
        except (ValueError, TypeError) as err:
            msg = str(err)
            assert param in msg, f"{name}({param}={label}): error does not name {param!r}: {msg}"
            assert "\n" not in msg.strip() and len(msg) < 400, f"{name}({param}={label}): message not one line"
            return
    assert not must_fail, f"{name}({param}={label}) accepted, returned {res!r}"[:300]
    assert _finite(res), f"{name}({param}={label}) returned non-finite {res!r}"[:300]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_bad_inputs_are_refused_naming_the_argument(name):
    for param in _fuzzable(name):
        for label, value in BAD.items():
            _check(name, param, value, label, must_fail=True)
        if param not in OPTIONAL:
            _check(name, param, None, "None", must_fail=True)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_extreme_inputs_give_finite_values_or_named_errors(name):
    for param in _fuzzable(name):
        for label, value in EXTREME.items():
            _check(name, param, value, label, must_fail=False)
