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


def passes(checker, *args):
    """Run ``checker`` quietly on a right answer (``args``); assert that it passed (its problems are the assertion
    message) and return the verdict, for checks of its notes."""
    v = checker(*args, verbose=False)
    assert isinstance(v, ex.Verdict) and v, problems(v)
    return v


def fails(checker, *args):
    """Run ``checker`` quietly on a wrong answer (``args``); assert that it failed and return its problems as one
    text, for checks of the mistakes it names."""
    v = checker(*args, verbose=False)
    assert isinstance(v, ex.Verdict) and not v, v
    return problems(v)


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
    assert "averaged the squared error over coordinates" in fails(ex.check_loss_floor, mse, lam, 0.5, 100_000)


def test_loss_floor_noisy_input_is_explained():
    mse, lam = monte_carlo_loss(100_000, 0.5, skip_denoiser=True)
    assert "noisy input" in fails(ex.check_loss_floor, mse, lam, 0.5, 100_000)


def test_loss_floor_bad_arguments():
    with pytest.raises(ValueError, match="lam"):
        ex.check_loss_floor(1.0, [-1.0, 2.0], 0.5, 10)
    with pytest.raises(ValueError, match="sigma"):
        ex.check_loss_floor(1.0, [1.0], 0.0, 10)
    with pytest.raises(ValueError, match="n_samples"):
        ex.check_loss_floor(1.0, [1.0], 0.5, 1)
    fails(ex.check_loss_floor, "a lot", [1.0], 0.5, 10)


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
    v = passes(ex.check_euler_sampler, euler)
    assert "slope -0.9" in v.notes[0]


def test_euler_heun_is_recognised():
    text = fails(ex.check_euler_sampler, heun)
    assert "Heun" in text and "per step" in text


def test_euler_wrong_sign_is_explained():
    assert "sign of the step" in fails(ex.check_euler_sampler, euler_wrong_sign)


def test_euler_crashing_sampler_is_reported():
    def broken(denoiser, x, sigmas):
        return denoiser(x)  # forgot sigma

    assert "raised TypeError" in fails(ex.check_euler_sampler, broken)


def test_euler_not_callable_is_a_failing_verdict_not_a_crash():
    assert "sampler must be your function itself" in fails(ex.check_euler_sampler, 3)


# ---------------------------------------------------------------- one-layer weight, eq. (7)


def w_one(lam, sigma, tau, eta, q):
    ws = lam / (lam + sigma**2)
    return ws + (q - ws) * np.exp(-2 * eta * tau * (lam + sigma**2))


def test_one_layer_correct_passes_keyword_only_too():
    passes(ex.check_one_layer_weight, w_one)

    def kw(lam, sigma, tau, *, eta=1.0, q=0.0):
        return w_one(lam, sigma, tau, eta, q)

    passes(ex.check_one_layer_weight, kw)


def test_one_layer_missing_factor_two():
    text = fails(ex.check_one_layer_weight, lambda lam, sigma, tau, eta, q: w_one(lam, sigma, tau / 2, eta, q))
    assert "half the right one" in text and "speed" in text


def test_one_layer_rate_without_noise():
    def no_sigma(lam, sigma, tau, eta, q):
        ws = lam / (lam + sigma**2)
        return ws + (q - ws) * np.exp(-2 * eta * tau * lam)

    assert "noise adds sigma^2" in fails(ex.check_one_layer_weight, no_sigma)


def test_one_layer_wrong_target_and_start():
    assert "tau = 0" in fails(
        ex.check_one_layer_weight, lambda lam, sigma, tau, eta, q: lam / (lam + sigma**2) + 0 * tau
    )
    assert "ridge optimum" in fails(
        ex.check_one_layer_weight, lambda lam, sigma, tau, eta, q: w_one(lam, np.sqrt(sigma), tau, eta, q)
    )


def test_one_layer_scalar_only_code_is_explained():
    def scalar(lam, sigma, tau, eta, q):
        ws = lam / (lam + sigma**2)
        return ws + (q - ws) * math.exp(-2 * eta * tau * (lam + sigma**2))

    assert "raised TypeError" in fails(ex.check_one_layer_weight, scalar)


def test_one_layer_no_broadcasting_is_explained():
    def loop(lam, sigma, tau, eta, q):
        lam, tau, q = (np.asarray(a, float).ravel() for a in (lam, tau, q))
        return w_one(lam, sigma, tau[: lam.size] if tau.size > 1 else tau, eta, q if q.size > 1 else q[0])

    assert "broadcast" in fails(ex.check_one_layer_weight, loop)


# ---------------------------------------------------------------- two-layer weight, eq. (8)


def w_two(lam, sigma, tau, eta, q, rate=8.0):
    """Logistic solution written without 0/0 at lam = 0: q / (E + q (lam + sigma^2) (1 - E) / lam)."""
    lam, sigma, tau, q = np.broadcast_arrays(*(np.asarray(a, float) for a in (lam, sigma, tau, q)))
    E = np.exp(-rate * eta * lam * tau)
    h = np.where(lam > 0, -np.expm1(-rate * eta * lam * tau) / np.where(lam > 0, lam, 1), rate * eta * tau)
    return q / (E + q * (lam + sigma**2) * h)


def test_two_layer_correct_passes():
    passes(ex.check_two_layer_weight, w_two)


def test_two_layer_textbook_form_passes_with_a_note_at_lam_zero():
    def textbook(lam, sigma, tau, eta, q):
        K = lam / (lam + sigma**2)
        with np.errstate(invalid="ignore"):
            return K * q / ((K - q) * np.exp(-8 * eta * lam * tau) + q)

    v = passes(ex.check_two_layer_weight, textbook)
    assert any("0/0" in n for n in v.notes)


def test_two_layer_balanced_rate_is_named():
    assert "balanced two-factor" in fails(
        ex.check_two_layer_weight, lambda lam, s, t, eta, q: w_two(lam, s, t, eta, q, rate=4.0)
    )


def test_two_layer_one_layer_answer_is_named():
    assert "one-layer exponential" in fails(ex.check_two_layer_weight, w_one)


# ---------------------------------------------------------------- converged generated variance


def gen_conv(lam, sigma_min, sigma_max):
    return sigma_max**2 * (lam + sigma_min**2) / (lam + sigma_max**2)


def test_converged_variance_correct_passes():
    passes(ex.check_generated_variance_converged, gen_conv)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda lam, sigma_min, sigma_max: lam, "starts from N(0, sigma_max^2)"),
        (lambda lam, sigma_min, sigma_max: lam + sigma_min**2, "exact marginal"),
        (lambda lam, sigma_min, sigma_max: sigma_max * (lam + sigma_min**2) / (lam + sigma_max**2), "instead of"),
    ],
)
def test_converged_variance_mistakes_are_explained(wrong, message):
    assert message in fails(ex.check_generated_variance_converged, wrong)


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
    passes(ex.check_generated_variance, gen_var_quadrature)


def test_generated_variance_wrong_sign_is_explained():
    assert "sign of the integral is flipped" in fails(
        ex.check_generated_variance, lambda *a, **k: gen_var_quadrature(*a, **k, sign=+1.0)
    )


def test_generated_variance_missing_start_variance_is_explained():
    assert "factor sigma_max^2" in fails(
        ex.check_generated_variance, lambda *a, **k: gen_var_quadrature(*a, **k, prefactor=False)
    )


def test_generated_variance_time_not_through_eta_tau_is_caught():
    def eta_ignored(lam, tau, eta, q, sigma_min, sigma_max):
        return gen_var_quadrature(lam, tau * 0.5, 1.0, q, sigma_min, sigma_max)  # right only for eta = 0.5

    assert "only the product eta*tau" in fails(ex.check_generated_variance, eta_ignored)


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
    passes(ex.check_emergence_time, first_passage)


def test_emergence_interpolating_answer_passes():
    def interp(times, values, target):
        t = first_passage(times, values, target)
        j = int(np.searchsorted(times, t))
        return np.sqrt(times[max(j - 1, 0)] * t)  # somewhere inside the bracketing interval

    passes(ex.check_emergence_time, interp)


def test_emergence_arithmetic_mean_is_named():
    assert "arithmetic mean" in fails(
        ex.check_emergence_time, lambda t, v, lam: first_passage(t, v, lam, mean=lambda a, b: (a + b) / 2)
    )


def test_emergence_index_instead_of_time_is_named():
    assert "index" in fails(ex.check_emergence_time, lambda t, v, lam: first_passage(t, v, lam, return_index=True))


def test_emergence_falling_modes_are_explained():
    assert "downwards" in fails(ex.check_emergence_time, lambda t, v, lam: first_passage(t, v, lam, both_ways=False))


def test_emergence_never_crossing_must_be_nan():
    def inf_instead(times, values, target):
        t = first_passage(times, values, target)
        return np.inf if np.isnan(t) else t

    assert "NaN" in fails(ex.check_emergence_time, inf_instead)


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


# ================================================================ checkers of chapters 1-10 added with the course
# Each: a right answer written here from the book's formula passes; every named mistake is recognised; the
# checker's reference is checked against an independent computation.

# ---------------------------------------------------------------- ex-ch1-heun


def heun_step(denoiser, x, s, sn, *, variant="right"):
    d = (x - denoiser(x, s)) / s
    xe = x + (sn - s) * d
    if variant == "euler":
        return xe
    if variant == "slope-at-x":
        return x + (sn - s) * 0.5 * (d + (x - denoiser(x, sn)) / sn)
    if variant == "slope-at-sigma":
        return x + (sn - s) * 0.5 * (d + (xe - denoiser(xe, s)) / s)
    dn = (xe - denoiser(xe, sn)) / sn
    if variant == "no-average":
        return x + (sn - s) * dn
    if variant == "sign":
        return x - (sn - s) * 0.5 * (d + dn)
    return x + (sn - s) * 0.5 * (d + dn)


def test_heun_correct_passes():
    passes(ex.check_heun_step, heun_step)


@pytest.mark.parametrize(
    "variant, message",
    [
        ("euler", "Euler predictor"),
        ("slope-at-x", "not at the starting point"),
        ("slope-at-sigma", "divide by sigma_next"),
        ("no-average", "second slope alone"),
        ("sign", "sign of the step"),
    ],
)
def test_heun_mistakes_are_named(variant, message):
    assert message in fails(ex.check_heun_step, lambda *a: heun_step(*a, variant=variant))


def test_heun_three_denoiser_calls_are_caught():
    def wasteful(denoiser, x, s, sn):
        denoiser(x, s)
        return heun_step(denoiser, x, s, sn)

    assert "3 times" in fails(ex.check_heun_step, wasteful)


def test_heun_reference_step_is_second_order():
    """Independent of the checker's formula: iterated on the EDM schedule with the exact Gaussian denoiser, the
    reference step converges to the exact end point sigma_max sqrt((lam + smin^2)/(lam + smax^2)) with slope -2."""
    from spectral_bias import theory

    lam = np.array([4.0, 0.5, 0.09, 0.01])
    exact = ST * np.sqrt((lam + S0**2) / (lam + ST**2))
    errs = []
    for n in (16, 32, 64, 128):
        sig, x = theory.edm_sigma_schedule(n), np.full(4, ST)
        for s, sn in zip(sig[:-1], sig[1:]):
            x = ex._heun_reference(lambda y, t: lam / (lam + t**2) * y, x, s, sn)
        errs.append(np.max(np.abs(x / exact - 1)))
    slope = np.polyfit(np.log([16, 32, 64, 128]), np.log(errs), 1)[0]
    assert -2.3 < slope < -1.8, slope


# ---------------------------------------------------------------- ex-ch2-moments


def test_matched_gaussian_right_answers_pass_with_either_normalisation():
    def by_loops(x):  # the definitions, written out
        n, d = x.shape
        mu = np.array([sum(x[i, j] for i in range(n)) / n for j in range(d)])
        xc = x - mu
        return mu, np.array([[sum(xc[i, a] * xc[i, b] for i in range(n)) / n for b in range(d)] for a in range(d)])

    v = passes(ex.check_matched_gaussian, by_loops)
    assert "by n" in " ".join(v.notes), v.notes
    passes(ex.check_matched_gaussian, lambda x: (x.mean(0), np.cov(x.T)))


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda x: (x.mean(0), x.T @ x / len(x)), "did not subtract the mean"),
        (lambda x: (x.mean(0), np.cov(x)), "covariance between samples"),
        (lambda x: (x.mean(1), np.cov(x.T)), "average over the samples"),
        (lambda x: (x.mean(0), np.diag(x.var(0, ddof=1))), "keeps the correlations"),
        (lambda x: (x.mean(0), np.diag(x.std(0, ddof=1))), "standard deviations"),
        (lambda x: np.cov(x.T), "two things"),
    ],
)
def test_matched_gaussian_mistakes_are_named(answer, message):
    assert message in fails(ex.check_matched_gaussian, answer)


# ---------------------------------------------------------------- ex-ch4-init


def init_variance(q, sigma_min, sigma_max):
    return sigma_max**2 * (sigma_min / sigma_max) ** (2 * (1 - q))


def test_init_variance_correct_passes():
    passes(ex.check_generated_variance_at_init, init_variance)


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda q, sigma_min, sigma_max: sigma_max**2 * (sigma_min / sigma_max) ** (2 * q), "exponent is 2q"),
        (lambda q, sigma_min, sigma_max: sigma_max**2 * (sigma_min / sigma_max) ** (1 - q), "factor 2"),
        (lambda q, sigma_min, sigma_max: (sigma_min / sigma_max) ** (2 * (1 - q)), "sigma_max^2 is missing"),
        (lambda q, sigma_min, sigma_max: 0 * q + sigma_min**2, "depends on the initial weight"),
        (lambda q, sigma_min, sigma_max: 2 * init_variance(q, sigma_min, sigma_max), "q = 1"),
    ],
)
def test_init_variance_mistakes_are_named(answer, message):
    assert message in fails(ex.check_generated_variance_at_init, answer)


def test_init_variance_reference_matches_quadrature_of_lemma_4_1():
    """ln var = ln smax^2 - 2 * integral of (1 - q)/s ds over [smin, smax], by numerical quadrature."""
    from scipy.integrate import quad

    from spectral_bias import theory

    for q in (-0.3, 0.0, 0.4, 1.2):
        integral = quad(lambda s: (1 - q) / s, S0, ST, limit=200, epsrel=1e-12)[0]
        assert np.isclose(theory.generated_variance_at_init(q), ST**2 * np.exp(-2 * integral), rtol=1e-9)


# ---------------------------------------------------------------- ex-ch5-exponent


def exponent(times, traj, lam, *, up_only=False, keep_nan=False, mean="geometric", regress="tau", log=np.log):
    ts = []
    for v, target in zip(traj, lam):
        thr = np.sqrt(v[0] * target) if mean == "geometric" else (v[0] + target) / 2
        past = v >= thr if (up_only or v[0] < thr) else v <= thr
        ts.append(times[np.argmax(past)] if past.any() else np.nan)
    ts = np.array(ts)
    k = np.ones(ts.size, bool) if keep_nan else np.isfinite(ts)
    if regress == "lam":
        return -np.polyfit(np.log(ts[k]), np.log(lam[k]), 1)[0]
    return -np.polyfit(np.log(lam[k]), log(ts[k]), 1)[0]


def test_exponent_correct_passes():
    passes(ex.check_emergence_exponent, exponent)


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(up_only=True), "fall"),
        (dict(keep_nan=True), "never crosses"),
        (dict(mean="arith"), "arithmetic"),
        (dict(regress="lam"), "1/alpha"),
        (dict(log=np.log10), "different bases"),
    ],
)
def test_exponent_mistakes_are_named(kw, message):
    assert message in fails(ex.check_emergence_exponent, lambda *a: exponent(*a, **kw))


def test_exponent_sign_is_named():
    assert "sign is flipped" in fails(ex.check_emergence_exponent, lambda *a: -exponent(*a))


def test_exponent_problem_has_the_exponent_it_was_built_with():
    """The synthetic trajectories cross sqrt(v0 lam) at tau = 0.5 lam^-0.8 (by construction): the package's
    first-passage + fit recovers 0.8 to grid resolution, so the checker's reference is not a copied number."""
    from spectral_bias import theory

    times, traj, lam = ex._exponent_problem(0.8)
    res = theory.emergence_time(times, traj, lam)
    assert np.isnan(res.tau_star[-1]) and np.all(np.isfinite(res.tau_star[:-1]))
    assert abs(theory.fit_power_law(lam, res.tau_star, n_boot=10).alpha - 0.8) < 0.01
    times, traj, lam = ex._exponent_problem(0.5)
    assert (
        abs(theory.fit_power_law(lam, theory.emergence_time(times, traj, lam).tau_star, n_boot=10).alpha - 0.5) < 0.01
    )


def test_first_passages_agree_with_a_search_mode_by_mode():
    """The checker's first passages of all modes at once (they name the "falling modes tested upwards" and
    "arithmetic mean" mistakes) equal the per-mode search of first_passage above, for both thresholds and both
    directions; the falling modes make the two directions differ."""
    times, traj, lam = ex._exponent_problem(0.8)
    geometric, arithmetic = np.sqrt(traj[:, 0] * lam), 0.5 * (traj[:, 0] + lam)
    found = {}
    for both_ways in (True, False):
        found[both_ways] = ex._first_passages(times, traj, geometric, both_ways=both_ways)
        want = [first_passage(times, v, t, both_ways=both_ways) for v, t in zip(traj, lam)]
        np.testing.assert_array_equal(found[both_ways], want)
    np.testing.assert_array_equal(
        ex._first_passages(times, traj, arithmetic, both_ways=True),
        [first_passage(times, v, t, mean=lambda a, b: (a + b) / 2) for v, t in zip(traj, lam)],
    )
    differ = ~np.isclose(found[True], found[False], equal_nan=True)
    # modes 1, 5, 9 fall through their threshold; mode 12 (lam = 1e-6) starts above it and never gets there,
    # so tested upwards it "crosses" at the first time
    assert set(np.flatnonzero(differ)) == {1, 5, 9, 12}
    assert np.isnan(found[True][12]) and found[False][12] == times[0]


def test_mistake_tables_name_the_first_match_only():
    rep = ex._Report("x")
    values = [("other shape", np.ones(4)), ("far", 2 * np.ones(3)), ("first", np.ones(3) + 1e-9), ("next", np.ones(3))]
    assert ex._named(rep, np.ones(3), values)
    assert not ex._named(rep, np.ones(3), values[:2])
    assert ex._first_mistake(rep, [("no", False), ("yes", True), ("also", True)])
    assert not ex._first_mistake(rep, [("no", False)])
    ex._every_problem(rep, [("a", True), ("b", False), ("c", True)])
    assert rep.problems == ["first", "yes", "a", "c"]


# ---------------------------------------------------------------- ex-ch7-patch-cov


def patch_cov(x, P, *, wrap=True, order="C", center=False, average=True):
    if center:
        x = x - x.mean(0)
    n, H, W = x.shape
    r = P // 2
    rows = []
    for i in range(H):
        for j in range(W):
            if not wrap and not (r <= i < H - r and r <= j < W - r):
                continue
            idx_i = [(i + a) % H for a in range(-r, r + 1)]
            idx_j = [(j + b) % W for b in range(-r, r + 1)]
            rows.append(x[:, idx_i][:, :, idx_j].reshape(n, -1, order=order))
    p = np.concatenate(rows)
    return p.T @ p / (len(p) if average else n)


def test_patch_covariance_correct_passes():
    passes(ex.check_patch_covariance, patch_cov)


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(wrap=False), "wrapping around"),
        (dict(order="F"), "row by row"),
        (dict(center=True), "subtracted the mean"),
        (dict(average=False), "instead of averaging over them"),
    ],
)
def test_patch_covariance_mistakes_are_named(kw, message):
    assert message in fails(ex.check_patch_covariance, lambda x, P: patch_cov(x, P, **kw))


# ---------------------------------------------------------------- ex-ch8-init


def test_preconditioned_initial_weight_correct_passes():
    passes(ex.check_preconditioned_initial_weight, lambda s, sigma_data: sigma_data**2 / (s**2 + sigma_data**2))


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda s, sigma_data: s**2 / (s**2 + sigma_data**2), "1 - c_skip"),
        (lambda s, sigma_data: s * sigma_data / np.sqrt(s**2 + sigma_data**2), "c_out"),
        (lambda s, sigma_data: 1 / np.sqrt(s**2 + sigma_data**2), "c_in"),
        (lambda s, sigma_data: sigma_data / (s + sigma_data), "squares are missing"),
        (lambda s, sigma_data: 0 * s, "plain one-layer start"),
    ],
)
def test_preconditioned_initial_weight_mistakes_are_named(answer, message):
    assert message in fails(ex.check_preconditioned_initial_weight, answer)


def test_c_skip_minimises_the_training_target_variance():
    """EDM's c_skip minimises Var(y - c (y + sigma n)) = (1 - c)^2 sd^2 + c^2 sigma^2: found numerically here."""
    from scipy.optimize import minimize_scalar

    from spectral_bias import theory

    for s in (0.01, 0.5, 3.0, 80.0):
        c = minimize_scalar(lambda c: (1 - c) ** 2 * 0.25 + c**2 * s**2, bracket=(0, 1), tol=1e-12).x
        assert np.isclose(theory.edm_preconditioning(s)[0], c, rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------- ex-ch9-chi-check


def chi(x, U, *, center=True, rotate="UT", square=True, root=False):
    C = np.cov(x, rowvar=False) if center else x.T @ x / len(x)
    M = {"UT": U.T @ C @ U, "U": U @ C @ U.T, "none": C}[rotate]
    val = np.sum(np.diag(M) ** 2) / np.sum(M**2) if square else np.sum(np.abs(np.diag(M))) / np.sum(np.abs(M))
    return np.sqrt(val) if root else val


def test_alignment_correct_passes():
    passes(ex.check_alignment_score, chi)


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(center=False), "did not centre"),
        (dict(rotate="none"), "pixel space"),
        (dict(rotate="U"), "COLUMNS"),
        (dict(square=False), "squares are missing"),
        (dict(root=True), "square root"),
    ],
)
def test_alignment_mistakes_are_named(kw, message):
    assert message in fails(ex.check_alignment_score, lambda x, U: chi(x, U, **kw))


def test_alignment_brute_force_agrees_with_the_package_measurement():
    from spectral_bias.experiments import measure_samples

    rng = np.random.default_rng(3)
    U = np.linalg.qr(rng.normal(size=(8, 8)))[0]
    for n in (300, 6):
        x = rng.normal(size=(n, 8)) @ rng.normal(size=(8, 8)) + 2.0
        assert np.isclose(measure_samples(x, U, np.zeros(8))["chi"], chi(x, U), rtol=1e-6)


# ---------------------------------------------------------------- ex-ch10-null


def precond_weight(lam, sigma, tau, eta, *, density=True, scale=True, start=True):
    K = lam / (lam + sigma**2)
    c_skip = 0.25 / (sigma**2 + 0.25)
    p = np.exp(-0.5 * ((np.log(sigma) + 1.2) / 1.2) ** 2) / (1.2 * np.sqrt(2 * np.pi))
    rate = eta * (p if density else 1.0) / ((sigma**2 + 0.25) if scale else 1.0)
    return K + ((c_skip if start else 0.0) - K) * np.exp(-2 * rate * (lam + sigma**2) * tau)


def test_preconditioned_weight_correct_passes():
    passes(ex.check_preconditioned_weight, precond_weight)


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(density=False, scale=False, start=False), "plain one-layer weight"),
        (dict(density=False, scale=False), "start c_skip is right"),
        (dict(density=False), "density p(sigma)"),
        (dict(scale=False), "1/(sigma^2 + sigma_d^2) is missing"),
    ],
)
def test_preconditioned_weight_mistakes_are_named(kw, message):
    assert message in fails(ex.check_preconditioned_weight, lambda *a, eta: precond_weight(*a, eta, **kw))


def test_preconditioned_weight_reference_solves_gradient_flow_on_the_inner_weight():
    """Gradient flow on v with W = c_skip + c_out c_in v, loss p(s) lambda(s) E(W x_s - x)^2 (per mode), from
    v = 0, solved by solve_ivp from EDM's definitions; compared with theory.preconditioned_weight."""
    from scipy.integrate import solve_ivp

    from spectral_bias import theory

    sd, eta = 0.5, 0.7
    for lam, s, tau in ((2.0, 0.3, 5.0), (0.05, 1.5, 40.0), (1e-3, 0.05, 300.0)):
        r2 = s**2 + sd**2
        c_skip, c_out, c_in = sd**2 / r2, s * sd / np.sqrt(r2), 1 / np.sqrt(r2)
        weight = r2 / (s * sd) ** 2
        p = np.exp(-0.5 * ((np.log(s) + 1.2) / 1.2) ** 2) / (1.2 * np.sqrt(2 * np.pi))

        def rhs(_, v):
            W = c_skip + c_out * c_in * v[0]
            dL_dW = 2 * ((lam + s**2) * W - lam)
            return [-eta * p * weight * c_out * c_in * dL_dW]

        v_end = solve_ivp(rhs, (0, tau), [0.0], rtol=1e-11, atol=1e-13).y[0, -1]
        W_end = c_skip + c_out * c_in * v_end
        assert np.isclose(theory.preconditioned_weight(lam, s, tau, eta=eta), W_end, rtol=1e-7)


# ---------------------------------------------------------------- every checker: NaN, inf and wrong types are wrong

NEW_AND_OLD = {
    "check_euler_sampler": lambda bad: lambda denoiser, x, sigmas: bad(x),
    "check_heun_step": lambda bad: lambda denoiser, x, s, sn: bad(x),
    "check_matched_gaussian": lambda bad: lambda x: (bad(x[0]), bad(x.T @ x)),
    "check_one_layer_weight": lambda bad: lambda lam, sigma, tau, eta, q: bad(lam * sigma * tau),
    "check_two_layer_weight": lambda bad: lambda lam, sigma, tau, eta, q: bad(lam * sigma * tau),
    "check_generated_variance_converged": lambda bad: lambda lam, sigma_min, sigma_max: bad(lam),
    "check_generated_variance": lambda bad: lambda lam, tau, eta, q, sigma_min, sigma_max: bad(lam * tau),
    "check_generated_variance_at_init": lambda bad: lambda q, sigma_min, sigma_max: bad(q),
    "check_emergence_time": lambda bad: lambda times, values, target: bad(1.0),
    "check_emergence_exponent": lambda bad: lambda times, traj, lam: bad(1.0),
    "check_patch_covariance": lambda bad: lambda x, P: bad(np.ones((P * P, P * P))),
    "check_preconditioned_initial_weight": lambda bad: lambda s, sigma_data: bad(s),
    "check_alignment_score": lambda bad: lambda x, U: bad(0.5),
    "check_preconditioned_weight": lambda bad: lambda lam, sigma, tau, eta: bad(lam * sigma * tau),
    "check_shared_weight_rate": lambda bad: lambda lam, eta: bad(lam),
}

BAD = {
    "NaN everywhere": (lambda a: np.full(np.shape(a), np.nan), "NaN"),
    "one NaN": (lambda a: np.where(np.arange(np.size(a)).reshape(np.shape(a)) == 0, np.nan, a), "NaN"),
    "inf": (lambda a: np.full(np.shape(a), np.inf), "inf"),
    "string": (lambda a: "0.5", "string"),
    "None": (lambda a: None, "None"),
    "complex": (lambda a: np.asarray(a) + 1j, "complex"),
    "boolean": (lambda a: np.ones(np.shape(a), dtype=bool), "booleans"),
    "wrong shape": (lambda a: np.ones(np.size(a) + 3), "shape"),
}


@pytest.mark.parametrize("bad", sorted(BAD))
@pytest.mark.parametrize("name", sorted(NEW_AND_OLD))
def test_checkers_fail_nan_inf_and_wrong_types_with_a_message(name, bad):
    """No checker passes NaN (abs(nan - ref) > tol is False!) or lets an internal exception escape."""
    make, word = BAD[bad]
    checker = getattr(ex, name)
    with np.errstate(all="raise"):  # the checker must not rely on warnings being printed
        v = checker(NEW_AND_OLD[name](make), verbose=False)
    assert isinstance(v, ex.Verdict) and not v, (name, bad)
    text = problems(v)
    if name == "check_emergence_time" and bad in ("NaN everywhere", "one NaN", "None"):
        word = "crossing lies between"  # NaN is the legal answer "never crosses", wrong for modes that cross
    if name == "check_emergence_time" and bad == "inf":
        word = "you give inf"
    if name in ("check_emergence_time", "check_emergence_exponent", "check_alignment_score") and bad == "wrong shape":
        word = "one number"
    if name == "check_emergence_exponent" and bad in ("NaN everywhere", "one NaN"):
        word = "NaN"
    assert word in text, (name, bad, text)


@pytest.mark.parametrize("name", sorted(NEW_AND_OLD))
@pytest.mark.parametrize("answer", [None, "my_function", 3.0, np.ones(3)])
def test_checkers_refuse_a_non_function_without_crashing(name, answer):
    assert "must be your function itself" in fails(getattr(ex, name), answer)


@pytest.mark.parametrize("name", sorted(NEW_AND_OLD))
def test_checkers_report_an_exception_in_the_students_code(name):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("oops")

    assert "raised ZeroDivisionError: oops" in fails(getattr(ex, name), broken)


@pytest.mark.parametrize("mse", [float("nan"), float("inf"), "0.4", None, 1 + 2j, [0.1, 0.2]])
def test_loss_floor_refuses_non_numbers(mse):
    assert "mse" in fails(ex.check_loss_floor, mse, [1.0, 0.5], 0.5, 100)


WEIRD = {
    "list of two": lambda *a, **k: [1, 2],
    "dict": lambda *a, **k: {"a": 1},
    "generator": lambda *a, **k: (x for x in range(3)),
    "ragged": lambda *a, **k: (np.zeros(3), "x"),
    "object array": lambda *a, **k: np.array([[1, 2], [3]], dtype=object),
    "masked": lambda *a, **k: np.ma.masked,
    "None inside": lambda *a, **k: [None, 1.0],
    "an object": lambda *a, **k: object(),
    "a function": lambda *a, **k: lambda: 1,
    "bytes": lambda *a, **k: b"1.0",
    "huge": lambda *a, **k: 1e308,
    "its first argument": lambda *a, **k: a[0] if a else 0,
}


@pytest.mark.parametrize("weird", sorted(WEIRD))
@pytest.mark.parametrize("name", sorted(NEW_AND_OLD))
def test_checkers_never_crash_or_pass_on_odd_answers(name, weird):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a warning may escape
        v = getattr(ex, name)(WEIRD[weird], verbose=False)
    assert isinstance(v, ex.Verdict) and not v and v.problems


@pytest.mark.parametrize("mse", [np.ma.masked, object(), {"a": 1}, b"1"])
def test_loss_floor_refuses_odd_numbers(mse):
    assert "mse" in fails(ex.check_loss_floor, mse, [1.0], 0.5, 10)


# ---------------------------------------------------------------- every chapter 1-10 has an autograded exercise

RIGHT_AND_WRONG = {  # checker -> (a test where a right answer passes, a test where a wrong answer is named)
    "check_loss_floor": ("test_loss_floor_correct_answer_passes", "test_loss_floor_noisy_input_is_explained"),
    "check_euler_sampler": ("test_euler_correct_sampler_passes", "test_euler_heun_is_recognised"),
    "check_heun_step": ("test_heun_correct_passes", "test_heun_mistakes_are_named"),
    "check_matched_gaussian": (
        "test_matched_gaussian_right_answers_pass_with_either_normalisation",
        "test_matched_gaussian_mistakes_are_named",
    ),
    "check_one_layer_weight": ("test_one_layer_correct_passes_keyword_only_too", "test_one_layer_missing_factor_two"),
    "check_generated_variance_at_init": ("test_init_variance_correct_passes", "test_init_variance_mistakes_are_named"),
    "check_generated_variance_converged": (
        "test_converged_variance_correct_passes",
        "test_converged_variance_mistakes_are_explained",
    ),
    "check_generated_variance": (
        "test_generated_variance_quadrature_answer_passes",
        "test_generated_variance_wrong_sign_is_explained",
    ),
    "check_emergence_time": ("test_emergence_correct_passes", "test_emergence_arithmetic_mean_is_named"),
    "check_emergence_exponent": ("test_exponent_correct_passes", "test_exponent_mistakes_are_named"),
    "check_two_layer_weight": ("test_two_layer_correct_passes", "test_two_layer_balanced_rate_is_named"),
    "check_patch_covariance": ("test_patch_covariance_correct_passes", "test_patch_covariance_mistakes_are_named"),
    "check_preconditioned_initial_weight": (
        "test_preconditioned_initial_weight_correct_passes",
        "test_preconditioned_initial_weight_mistakes_are_named",
    ),
    "check_alignment_score": ("test_alignment_correct_passes", "test_alignment_mistakes_are_named"),
    "check_preconditioned_weight": (
        "test_preconditioned_weight_correct_passes",
        "test_preconditioned_weight_mistakes_are_named",
    ),
    "check_shared_weight_rate": (
        "test_shared_weight_rate_correct_passes",
        "test_shared_weight_rate_mistakes_are_named",
    ),
}


def test_every_checker_has_a_right_and_a_wrong_answer_test():
    public = {n for n in ex.__all__ if n.startswith("check_")}
    assert public == set(RIGHT_AND_WRONG)
    for right, wrong in RIGHT_AND_WRONG.values():
        assert callable(globals()[right]) and callable(globals()[wrong])


@pytest.mark.parametrize("number", range(1, 11))
def test_every_chapter_ends_with_an_autograded_exercise(number):
    """The chapter's last exercise: a cell for the reader's attempt that imports a checker (kept in the student
    edition), and a gated solution whose code cell runs that checker on the reference answer (removed there)."""
    import re
    from pathlib import Path

    from spectral_bias.booktools import notebooks as mk

    root = Path(__file__).resolve().parents[1]

    (md,) = root.glob(f"chapters/{number:02d}_*.md")
    text = md.read_text(encoding="utf-8")
    last = text[text.rindex("```{exercise}") :]
    gated = re.search(r"````\{solution-start\} (\S+)\n:class: dropdown\n````\n(.*?)````\{solution-end\}", last, re.S)
    assert gated, f"{md.name}: the last exercise has no folded gated solution"
    label = re.search(r":label: (\S+)", last).group(1)
    assert gated.group(1) == label
    called = set(re.findall(r"^(check_\w+)\(", gated.group(2), flags=re.M))
    assert called and called <= set(RIGHT_AND_WRONG), f"{md.name}: the solution cell calls no checker"
    student = mk.strip_solutions(last)
    assert "```{code-cell}" in student and "import" in student and all(c in student for c in called)
    assert gated.group(2) not in student


# ---------------------------------------------------------------- ex-ch12-rate


def shared_rate(lam, eta):
    """The package's rate (Gauss-Hermite in ln sigma); the checker's reference is adaptive quadrature."""
    from spectral_bias import theory

    return eta * theory.shared_weight_dynamics(lam)[0][..., 0, 0]


def test_shared_weight_rate_correct_passes():
    passes(ex.check_shared_weight_rate, shared_rate)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda lam, eta: 0.5 * shared_rate(lam, eta), "factor 2 is missing"),
        (lambda lam, eta: shared_rate(lam, eta) - shared_rate(0.0 * lam, eta), "sigma^2 term is missing"),
        (lambda lam, eta: 2 * eta * (lam + np.exp(-2.4)) / (np.exp(-2.4) + 0.25), "per-sigma rate"),
        (lambda lam, eta: 1.01 * shared_rate(lam, eta), "expected"),
    ],
)
def test_shared_weight_rate_mistakes_are_named(wrong, message):
    assert message in fails(ex.check_shared_weight_rate, wrong)
