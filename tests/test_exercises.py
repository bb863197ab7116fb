"""The exercise checkers: a correct answer passes, a typical wrong answer is caught with a message that says why.

The "student answers" below are written here from the formulas in the book, independently of the package.
"""

import math

import numpy as np
import pytest

from spectral_bias import exercises as ex

S0, ST = 0.002, 80.0


def problems(v):
    return " | ".join(v.problems)


# ---------------------------------------------------------------- ex-ch1-loss-floor

def monte_carlo_loss(n, sigma, *, average_coordinates=False, skip_denoiser=False, seed=0):
    """A student's Monte Carlo estimate of the optimal denoiser's loss on the chapter-1 2-D Gaussian."""
    rng = np.random.default_rng(seed)
    angle = np.pi / 5
    R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    lam, mu = np.array([4.0, 0.09]), np.array([1.0, -0.5])
    cov = R @ np.diag(lam) @ R.T
    x0 = rng.multivariate_normal(mu, cov, size=n)
    xs = x0 + sigma * rng.standard_normal(x0.shape)
    W = cov @ np.linalg.inv(cov + sigma**2 * np.eye(2))
    den = xs if skip_denoiser else mu + (xs - mu) @ W.T
    err = (den - x0) ** 2
    return (err.mean() if average_coordinates else err.sum(1).mean()), lam


def test_loss_floor_correct_answer_passes(capsys):
    mse, lam = monte_carlo_loss(100_000, 0.5)
    v = ex.check_loss_floor(mse, lam, 0.5, 100_000)
    assert v and v.passed and "PASSED" in capsys.readouterr().out


def test_loss_floor_mean_over_coordinates_is_explained():
    mse, lam = monte_carlo_loss(100_000, 0.5, average_coordinates=True)
    v = ex.check_loss_floor(mse, lam, 0.5, 100_000, verbose=False)
    assert not v and "averaged the squared error over coordinates" in problems(v)


def test_loss_floor_noisy_input_is_explained():
    mse, lam = monte_carlo_loss(100_000, 0.5, skip_denoiser=True)
    v = ex.check_loss_floor(mse, lam, 0.5, 100_000, verbose=False)
    assert not v and "noisy input" in problems(v)


def test_loss_floor_bad_arguments():
    with pytest.raises(ValueError, match="lam"):
        ex.check_loss_floor(1.0, [-1.0, 2.0], 0.5, 10)
    with pytest.raises(ValueError, match="sigma"):
        ex.check_loss_floor(1.0, [1.0], 0.0, 10)
    with pytest.raises(ValueError, match="n_samples"):
        ex.check_loss_floor(1.0, [1.0], 0.5, 1)
    assert not ex.check_loss_floor("a lot", [1.0], 0.5, 10, verbose=False)


# ---------------------------------------------------------------- ex-ch1-euler

def euler(denoiser, x, sigmas):
    for s, sn in zip(sigmas[:-1], sigmas[1:]):
        x = x + (sn - s) * (x - denoiser(x, s)) / s
    return x


def euler_wrong_sign(denoiser, x, sigmas):
    for s, sn in zip(sigmas[:-1], sigmas[1:]):
        x = x - (sn - s) * (x - denoiser(x, s)) / s
    return x


def heun(denoiser, x, sigmas):
    for s, sn in zip(sigmas[:-1], sigmas[1:]):
        d = (x - denoiser(x, s)) / s
        xe = x + (sn - s) * d
        x = x + (sn - s) * (d + (xe - denoiser(xe, sn)) / sn) / 2
    return x


def test_euler_correct_sampler_passes():
    v = ex.check_euler_sampler(euler, verbose=False)
    assert v, problems(v)
    assert "slope -0.9" in v.notes[0]


def test_euler_heun_is_recognised():
    v = ex.check_euler_sampler(heun, verbose=False)
    assert not v and "Heun" in problems(v) and "per step" in problems(v)


def test_euler_wrong_sign_is_explained():
    v = ex.check_euler_sampler(euler_wrong_sign, verbose=False)
    assert not v and "sign of the step" in problems(v)


def test_euler_crashing_sampler_is_reported():
    def broken(denoiser, x, sigmas):
        return denoiser(x)  # forgot sigma

    v = ex.check_euler_sampler(broken, verbose=False)
    assert not v and "raised TypeError" in problems(v)


def test_euler_not_callable_is_a_failing_verdict_not_a_crash():
    v = ex.check_euler_sampler(3, verbose=False)
    assert not v and "sampler must be your function itself" in problems(v)


# ---------------------------------------------------------------- one-layer weight, eq. (7)

def w_one(lam, sigma, tau, eta, q):
    ws = lam / (lam + sigma**2)
    return ws + (q - ws) * np.exp(-2 * eta * tau * (lam + sigma**2))


def test_one_layer_correct_passes_keyword_only_too():
    assert ex.check_one_layer_weight(w_one, verbose=False)

    def kw(lam, sigma, tau, *, eta=1.0, q=0.0):
        return w_one(lam, sigma, tau, eta, q)

    assert ex.check_one_layer_weight(kw, verbose=False)


def test_one_layer_missing_factor_two():
    v = ex.check_one_layer_weight(lambda lam, sigma, tau, eta, q: w_one(lam, sigma, tau / 2, eta, q), verbose=False)
    assert not v and "half the right one" in problems(v) and "speed" in problems(v)


def test_one_layer_rate_without_noise():
    def no_sigma(lam, sigma, tau, eta, q):
        ws = lam / (lam + sigma**2)
        return ws + (q - ws) * np.exp(-2 * eta * tau * lam)

    v = ex.check_one_layer_weight(no_sigma, verbose=False)
    assert not v and "noise adds sigma^2" in problems(v)


def test_one_layer_wrong_target_and_start():
    v = ex.check_one_layer_weight(lambda lam, sigma, tau, eta, q: lam / (lam + sigma**2) + 0 * tau, verbose=False)
    assert not v and "tau = 0" in problems(v)
    v = ex.check_one_layer_weight(lambda lam, sigma, tau, eta, q: w_one(lam, np.sqrt(sigma), tau, eta, q),
                                  verbose=False)
    assert not v and "ridge optimum" in problems(v)


def test_one_layer_scalar_only_code_is_explained():
    def scalar(lam, sigma, tau, eta, q):
        ws = lam / (lam + sigma**2)
        return ws + (q - ws) * math.exp(-2 * eta * tau * (lam + sigma**2))

    v = ex.check_one_layer_weight(scalar, verbose=False)
    assert not v and "raised TypeError" in problems(v)


def test_one_layer_no_broadcasting_is_explained():
    def loop(lam, sigma, tau, eta, q):
        lam, tau, q = (np.asarray(a, float).ravel() for a in (lam, tau, q))
        return w_one(lam, sigma, tau[: lam.size] if tau.size > 1 else tau, eta, q if q.size > 1 else q[0])

    v = ex.check_one_layer_weight(loop, verbose=False)
    assert not v and "broadcast" in problems(v)


# ---------------------------------------------------------------- two-layer weight, eq. (8)

def w_two(lam, sigma, tau, eta, q, rate=8.0):
    """Logistic solution written without 0/0 at lam = 0: q / (E + q (lam + sigma^2) (1 - E) / lam)."""
    lam, sigma, tau, q = np.broadcast_arrays(*(np.asarray(a, float) for a in (lam, sigma, tau, q)))
    E = np.exp(-rate * eta * lam * tau)
    h = np.where(lam > 0, -np.expm1(-rate * eta * lam * tau) / np.where(lam > 0, lam, 1), rate * eta * tau)
    return q / (E + q * (lam + sigma**2) * h)


def test_two_layer_correct_passes():
    v = ex.check_two_layer_weight(w_two, verbose=False)
    assert v, problems(v)


def test_two_layer_textbook_form_passes_with_a_note_at_lam_zero():
    def textbook(lam, sigma, tau, eta, q):
        K = lam / (lam + sigma**2)
        with np.errstate(invalid="ignore"):
            return K * q / ((K - q) * np.exp(-8 * eta * lam * tau) + q)

    v = ex.check_two_layer_weight(textbook, verbose=False)
    assert v and any("0/0" in n for n in v.notes)


def test_two_layer_balanced_rate_is_named():
    v = ex.check_two_layer_weight(lambda lam, s, t, eta, q: w_two(lam, s, t, eta, q, rate=4.0), verbose=False)
    assert not v and "balanced two-factor" in problems(v)


def test_two_layer_one_layer_answer_is_named():
    v = ex.check_two_layer_weight(w_one, verbose=False)
    assert not v and "one-layer exponential" in problems(v)


# ---------------------------------------------------------------- converged generated variance

def gen_conv(lam, sigma_min, sigma_max):
    return sigma_max**2 * (lam + sigma_min**2) / (lam + sigma_max**2)


def test_converged_variance_correct_passes():
    assert ex.check_generated_variance_converged(gen_conv, verbose=False)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda lam, sigma_min, sigma_max: lam, "starts from N(0, sigma_max^2)"),
        (lambda lam, sigma_min, sigma_max: lam + sigma_min**2, "exact marginal"),
        (lambda lam, sigma_min, sigma_max: sigma_max * (lam + sigma_min**2) / (lam + sigma_max**2), "instead of"),
    ],
)
def test_converged_variance_mistakes_are_explained(wrong, message):
    v = ex.check_generated_variance_converged(wrong, verbose=False)
    assert not v and message in problems(v)


# ---------------------------------------------------------------- generated variance during training (Prop. 4.2)

def gen_var_quadrature(lam, tau, eta, q, sigma_min, sigma_max, sign=-1.0, prefactor=True):
    """A student's answer by numerical quadrature in ln(sigma) of (1 - w)/s with the eq.-(7) weight."""
    from scipy.integrate import quad

    lam, tau, q = np.broadcast_arrays(*(np.asarray(a, float) for a in (lam, tau, q)))
    out = np.empty(lam.shape)
    for i in np.ndindex(lam.shape):
        def integrand(u):  # u = ln s, ds/s = du
            s = np.exp(u)
            return 1.0 - w_one(lam[i], s, tau[i], eta, q[i])

        val = quad(integrand, np.log(sigma_min), np.log(sigma_max), epsabs=1e-12, epsrel=1e-12, limit=200)[0]
        out[i] = (2 * np.log(sigma_max) if prefactor else 0.0) + sign * 2.0 * val
    return np.exp(out)


def test_generated_variance_quadrature_answer_passes():
    v = ex.check_generated_variance(gen_var_quadrature, verbose=False)
    assert v, problems(v)


def test_generated_variance_wrong_sign_is_explained():
    v = ex.check_generated_variance(lambda *a, **k: gen_var_quadrature(*a, **k, sign=+1.0), verbose=False)
    assert not v and "sign of the integral is flipped" in problems(v)


def test_generated_variance_missing_start_variance_is_explained():
    v = ex.check_generated_variance(lambda *a, **k: gen_var_quadrature(*a, **k, prefactor=False), verbose=False)
    assert not v and "factor sigma_max^2" in problems(v)


def test_generated_variance_time_not_through_eta_tau_is_caught():
    def eta_ignored(lam, tau, eta, q, sigma_min, sigma_max):
        return gen_var_quadrature(lam, tau * 0.5, 1.0, q, sigma_min, sigma_max)  # right only for eta = 0.5

    v = ex.check_generated_variance(eta_ignored, verbose=False)
    assert not v and "only the product eta*tau" in problems(v)


# ---------------------------------------------------------------- emergence time

def first_passage(times, values, target, mean=lambda a, b: np.sqrt(a * b), return_index=False, both_ways=True):
    thr = mean(values[0], target)
    up = values[0] < thr
    past = values >= thr if (up or not both_ways) else values <= thr
    if not past.any():
        return np.nan
    j = int(np.argmax(past))
    return j if return_index else times[j]


def test_emergence_correct_passes():
    v = ex.check_emergence_time(first_passage, verbose=False)
    assert v, problems(v)


def test_emergence_interpolating_answer_passes():
    def interp(times, values, target):
        t = first_passage(times, values, target)
        j = int(np.searchsorted(times, t))
        return np.sqrt(times[max(j - 1, 0)] * t)  # somewhere inside the bracketing interval

    assert ex.check_emergence_time(interp, verbose=False)


def test_emergence_arithmetic_mean_is_named():
    v = ex.check_emergence_time(lambda t, v, lam: first_passage(t, v, lam, mean=lambda a, b: (a + b) / 2),
                                verbose=False)
    assert not v and "arithmetic mean" in problems(v)


def test_emergence_index_instead_of_time_is_named():
    v = ex.check_emergence_time(lambda t, v, lam: first_passage(t, v, lam, return_index=True), verbose=False)
    assert not v and "index" in problems(v)


def test_emergence_falling_modes_are_explained():
    v = ex.check_emergence_time(lambda t, v, lam: first_passage(t, v, lam, both_ways=False), verbose=False)
    assert not v and "downwards" in problems(v)


def test_emergence_never_crossing_must_be_nan():
    def inf_instead(times, values, target):
        t = first_passage(times, values, target)
        return np.inf if np.isnan(t) else t

    v = ex.check_emergence_time(inf_instead, verbose=False)
    assert not v and "NaN" in problems(v)


def test_verdict_text():
    v = ex.Verdict("x", False, ["p1"], ["n1"])
    assert str(v) == "NOT YET x: 1 problem(s)\n  - p1\n  (n1)" and not v and repr(v) == "<Verdict x: not yet>"


def test_two_layer_checker_reference_agrees_with_the_package():
    """The checker grades against an ODE solve; it must agree with theory.two_layer_weight (eq. 8), which the deep
    branch tests against full-matrix gradient flow (rtol 1e-11 ODE vs closed form: agreement to ~1e-8)."""
    from spectral_bias import theory

    rng = np.random.default_rng(5)
    lam, sigma, tau = 10 ** rng.uniform(-3, 1, 20), 10 ** rng.uniform(-2, 1.5, 20), 10 ** rng.uniform(-3, 2, 20)
    q = rng.uniform(0.01, 1.2, 20)
    ode = ex._logistic_ode(lam, sigma, tau, 0.7, q)
    np.testing.assert_allclose(ode, theory.two_layer_weight(lam, sigma, tau, eta=0.7, q=q), rtol=1e-7)
