"""Checkers for the book's coding exercises: call one on *your* answer and it tells you, in plain words, what is wrong.

Each ``check_*`` function runs your function (or your number) against the package's reference on random inputs and
on edge cases, prints a verdict, and returns a :class:`Verdict` (truthy when everything passed)::

    from spectral_bias.exercises import check_one_layer_weight

    def my_weight(lam, sigma, tau, eta, q):
        ...

    check_one_layer_weight(my_weight)

Calling conventions (the same names as in the book): ``lam`` data variance λ_k, ``sigma`` noise level σ, ``tau``
training time τ, ``eta`` learning rate η, ``q`` initial weight Q. Your functions are called with ``lam``,
``sigma``, ``tau`` positionally and ``eta=``, ``q=`` (and ``sigma_min=``, ``sigma_max=``) as keywords, so
``def f(lam, sigma, tau, eta, q)`` and ``def f(lam, sigma, tau, *, eta=1.0, q=0.0)`` both work.

Exercises covered: ex-ch1-loss-floor (:func:`check_loss_floor`), ex-ch1-euler (:func:`check_euler_sampler`), and
the core theory of the later chapters: the one-layer weight, eq. (7) (:func:`check_one_layer_weight`); the
converged generated variance (:func:`check_generated_variance_converged`); the emergence time
(:func:`check_emergence_time`); the symmetric two-layer (logistic) weight, eq. (8) (:func:`check_two_layer_weight`).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Verdict",
    "check_loss_floor",
    "check_euler_sampler",
    "check_one_layer_weight",
    "check_generated_variance_converged",
    "check_generated_variance",
    "check_emergence_time",
    "check_two_layer_weight",
]

SIGMA_MIN, SIGMA_MAX = 0.002, 80.0


@dataclass
class Verdict:
    """Outcome of a checker: ``passed``, the ``problems`` found (plain-language sentences) and ``notes``.

    ``bool(verdict)`` is ``passed``; ``str(verdict)`` is the full report.
    """

    exercise: str
    passed: bool
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = (f"PASSED {self.exercise}" if self.passed
                else f"NOT YET {self.exercise}: {len(self.problems)} problem(s)")
        lines = [head] + [f"  - {p}" for p in self.problems] + [f"  ({n})" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Verdict {self.exercise}: {'passed' if self.passed else 'not yet'}>"


class _Report:
    """Collects problems; the first problem of each kind is kept (one clear message beats ten similar ones)."""

    def __init__(self, exercise):
        self.exercise, self.problems, self.notes = exercise, [], []

    def fail(self, msg):
        if msg not in self.problems:
            self.problems.append(msg)

    def note(self, msg):
        self.notes.append(msg)

    def done(self, verbose):
        v = Verdict(self.exercise, not self.problems, self.problems, self.notes)
        if verbose:
            print(v)
        return v

    def fail_now(self, msg, verbose):
        self.fail(msg)
        return self.done(verbose)


class _StudentError(Exception):
    pass


def _guarded(exercise):
    """Wrap a checker so that nothing the student's answer does can crash it: a :class:`_StudentError` raised
    anywhere inside becomes a failing :class:`Verdict` with its message, and numpy's floating-point warnings from
    the student's code (log of a negative number, 0/0) are silenced (their NaN results are reported instead).
    Errors in the *checker's own* arguments (ValueError/TypeError naming the argument) still propagate."""

    def deco(checker):
        @functools.wraps(checker)
        def wrapper(*args, verbose=True, **kwargs):
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    warnings.simplefilter("ignore", getattr(np.exceptions, "ComplexWarning", RuntimeWarning))
                    return checker(*args, verbose=verbose, **kwargs)
            except _StudentError as err:
                return _Report(exercise).fail_now(str(err), verbose)

        return wrapper

    return deco


def _call(fn, what, *args, **kwargs):
    """Call the student's function; turn any exception into a readable message."""
    try:
        out = fn(*args, **kwargs)
    except Exception as err:  # the student's code may raise anything: report it, do not crash the checker
        shown = ", ".join([_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()])
        raise _StudentError(f"your {what} raised {type(err).__name__}: {err} (called as {what}({shown}))") from None
    return out


def _short(a):
    if isinstance(a, np.ndarray):
        return f"array{a.shape}" if a.size > 3 else np.array2string(a, precision=3)
    if callable(a):
        return getattr(a, "__name__", "function")
    return repr(a)


def _kind_problem(out, what):
    """A sentence saying why ``out`` is not a real number or array of real numbers, or None when it is one."""
    if out is None:
        return f"your {what} returned None: did you forget the `return` statement?"
    if isinstance(out, (str, bytes)):
        return f"your {what} returned a string ({out!r:.40}), not numbers"
    if isinstance(out, (bool, np.bool_)) or (isinstance(out, np.ndarray) and out.dtype == bool):
        return f"your {what} returned True/False (booleans), not numbers"
    if isinstance(out, dict) or callable(out):
        return f"your {what} returned a {type(out).__name__}, not numbers"
    try:
        arr = np.asarray(out)
    except Exception:  # ragged lists and other objects numpy cannot hold
        return f"your {what} returned {type(out).__name__}, not numbers"
    if np.iscomplexobj(arr):
        return (f"your {what} returned complex numbers: the answer is real (a square root or log of a negative "
                "number somewhere?)")
    if arr.dtype.kind not in "iuf":
        try:
            np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            return f"your {what} returned {type(out).__name__}, not numbers"
        if any(isinstance(v, (str, bytes, bool, np.bool_)) for v in arr.ravel()):
            return f"your {what} returned strings or booleans inside an array, not numbers"
    return None


def _as_array(out, what, shape, *, finite=True):
    """The student's output as a float array of the expected shape, or a _StudentError explaining why not.

    Strings, None, booleans and complex numbers are refused (numpy would silently turn "1.5" or True into a
    number and drop an imaginary part); with ``finite`` (default) NaN and inf are refused too.
    """
    problem = _kind_problem(out, what)
    if problem:
        raise _StudentError(problem)
    arr = np.asarray(out, dtype=float)
    if arr.shape != shape:
        if arr.size == 1 and shape != ():
            raise _StudentError(f"your {what} returned a single number where an array of shape {shape} was "
                                f"expected: make it work element-wise on numpy arrays (use np.exp, not math.exp)")
        raise _StudentError(f"your {what} returned shape {arr.shape}, expected {shape}: it should broadcast its "
                            f"array arguments like numpy does")
    if finite and not np.all(np.isfinite(arr)):
        bad = ~np.isfinite(arr)
        which = "NaN" if np.isnan(arr[bad]).all() else ("inf" if np.isinf(arr[bad]).all() else "NaN/inf")
        where = "" if arr.ndim == 0 else f" in {int(bad.sum())} of {arr.size} entries"
        raise _StudentError(f"your {what} returned {which}{where}: look for a 0/0, a division by zero, an overflow "
                            "(exp of a large number) or the log of a negative number")
    return arr


def _as_number(out, what, *, finite=True):
    """The student's answer as one float (a size-1 array is accepted), or a _StudentError explaining why not."""
    problem = _kind_problem(out, what)
    if problem:
        raise _StudentError(problem)
    arr = np.asarray(out, dtype=float)
    if arr.size != 1:
        raise _StudentError(f"your {what} should be one number, got an array of shape {arr.shape}")
    val = float(arr.reshape(()))
    if finite and not math.isfinite(val):
        raise _StudentError(f"your {what} is {val}, not a finite number: look for a 0/0, a division by zero or the "
                            "log of a negative number")
    return val


def _check_callable(fn, name):
    if not callable(fn):
        hint = " (you passed None: did the cell defining your function run?)" if fn is None else ""
        raise _StudentError(f"{name} must be your function itself (a callable), got {type(fn).__name__}{hint}: "
                            f"write check(my_function), not check(my_function(...))")


def _random_modes(rng, n):
    """Variances spread over 4 decades, noise levels over the EDM range, training times over 5 decades."""
    lam = 10.0 ** rng.uniform(-3, 1, n)
    sigma = 10.0 ** rng.uniform(np.log10(SIGMA_MIN), np.log10(SIGMA_MAX), n)
    tau = 10.0 ** rng.uniform(-3, 2, n)
    return lam, sigma, tau


# ------------------------------------------------------------------------------------------------------------------
# Chapter 1
# ------------------------------------------------------------------------------------------------------------------

@_guarded("ex-ch1-loss-floor")
def check_loss_floor(mse, lam, sigma, n_samples, *, verbose=True) -> Verdict:
    """ex-ch1-loss-floor: is your Monte Carlo loss of the optimal denoiser consistent with Σ_k λ_k σ²/(λ_k + σ²)?

    ``mse``: your estimate (mean over ``n_samples`` samples of ||D*(x_σ) - x_0||², summed over coordinates);
    ``lam``: the data variances (eigenvalues of Σ), 1-D; ``sigma`` > 0; ``n_samples`` >= 2.
    The floor is :func:`spectral_bias.theory.loss_floor` (eq. 6). The residual of mode k is Gaussian with variance
    r_k = λ_k σ²/(λ_k + σ²), so ||residual||² has variance 2 Σ r_k² and the estimate's standard error is
    sqrt(2 Σ r_k² / n); an answer within 4 standard errors passes. Raises ValueError for bad ``lam``/``sigma``/
    ``n_samples``.
    """
    from . import theory

    rep = _Report("ex-ch1-loss-floor")
    lam = np.asarray(lam, dtype=float)
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"lam must be a non-empty 1-D array of non-negative variances, got {lam!r}")
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    mse = _as_number(mse, "mse (your average squared error)")
    floor = float(theory.loss_floor(lam, sigma))
    r = lam * sigma**2 / (lam + sigma**2)
    se = math.sqrt(2.0 * np.sum(r**2) / n_samples)
    d = lam.size
    z = (mse - floor) / se
    if abs(z) <= 4.0:
        rep.note(f"your {mse:.5g} vs the formula {floor:.5g}: {z:+.1f} standard errors (se = {se:.2g})")
        return rep.done(verbose)
    rep.fail(f"your loss {mse:.5g} is {z:+.1f} standard errors from the formula {floor:.5g} (se = {se:.2g} "
             f"for n = {n_samples})")
    if d > 1 and abs(mse - floor / d) <= 4.0 * se / d:
        rep.fail(f"it equals the formula divided by d = {d}: you averaged the squared error over coordinates too "
                 "(np.mean over everything). The loss sums over coordinates and averages over samples: "
                 "np.mean(np.sum(err**2, axis=1))")
    elif abs(mse - d * sigma**2) <= 4.0 * sigma**2 * math.sqrt(2.0 * d / n_samples):
        rep.fail(f"it equals d σ² = {d * sigma ** 2:.4g}, the error of the *noisy input*: apply the denoiser to "
                 "x0 + σ z before comparing with x0")
    elif z > 0:
        rep.fail("it is too large: check that the denoiser is evaluated at the same σ you used for the noise, and "
                 "that the mean μ is added back by the denoiser")
    else:
        rep.fail("it is too small: the denoiser must not see the clean x0; it only sees x0 + σ z")
    return rep.done(verbose)


@_guarded("ex-ch1-euler")
def check_euler_sampler(sampler, *, verbose=True) -> Verdict:
    """ex-ch1-euler: is your Euler PF-ODE sampler correct and first-order?

    ``sampler(denoiser, x_T, sigmas)`` must integrate dx/dσ = -(D(x; σ) - x)/σ (eq. PF-ODE) from ``sigmas[0]`` down
    to ``sigmas[-1]`` with one denoiser evaluation ``denoiser(x, sigma)`` per step, and return x at ``sigmas[-1]``
    (same shape as ``x_T``). The problem: four Gaussian modes λ = 4, 0.5, 0.09, 0.01 with the exact denoiser
    D(x; σ) = λ/(λ + σ²) x, one trajectory per mode from x_T = σ_max, whose exact end point is
    σ_max sqrt((λ + σ_min²)/(λ + σ_max²)) (eq. generated-optimal). On the EDM schedules with n = 16 ... 256 steps
    a correct Euler sampler has a log-log error slope of -1 (measured: -0.98; Heun gives -2.1); a slope in
    [-1.3, -0.7] with a final relative error below 5% passes.
    """
    from . import theory

    _check_callable(sampler, "sampler")
    rep = _Report("ex-ch1-euler")
    lam = np.array([4.0, 0.5, 0.09, 0.01])
    exact = SIGMA_MAX * np.sqrt((lam + SIGMA_MIN**2) / (lam + SIGMA_MAX**2))
    ns = np.array([16, 32, 64, 128, 256])
    errs, calls = [], []
    for n in ns:
        sig = theory.edm_sigma_schedule(int(n))
        count = [0]

        def denoiser(x, sigma, _count=count):
            _count[0] += 1
            return theory.optimal_weight(lam, sigma) * np.asarray(x)

        try:
            out = _as_array(_call(sampler, "sampler", denoiser, np.full(lam.shape, SIGMA_MAX), sig.copy()),
                            "sampler", lam.shape, finite=False)
        except _StudentError as err:
            rep.fail(str(err))
            return rep.done(verbose)
        if not np.all(np.isfinite(out)):
            rep.fail(f"with {n} steps your sampler returned non-finite values ({out}); look for a division by σ = 0")
            return rep.done(verbose)
        errs.append(np.max(np.abs(out / exact - 1.0)))
        calls.append(count[0])
    errs = np.array(errs)
    if calls[0] == 0:
        rep.fail("your sampler never called the denoiser")
        return rep.done(verbose)
    steps = ns - 1
    if not np.all(np.array(calls) == steps):
        per = np.array(calls) / steps
        rep.fail(f"Euler uses one denoiser evaluation per step; yours used {per[-1]:.2g} per step "
                 f"({calls[-1]} calls for {steps[-1]} steps)")
    if np.all(errs < 1e-12):
        rep.fail("your sampler returns the exact answer for every number of steps: it should integrate the ODE, not "
                 "use the closed form")
        return rep.done(verbose)
    slope = float(np.polyfit(np.log(ns), np.log(np.maximum(errs, 1e-300)), 1)[0])
    rep.note(f"relative errors for n = {ns.tolist()} steps: {np.array2string(errs, precision=2)}; "
             f"log-log slope {slope:.2f}")
    if slope > -0.3:
        if errs[-1] > 1.0:
            rep.fail(f"the error does not shrink with more steps (slope {slope:.2f}; error {errs[-1]:.3g} at 256 "
                     "steps) and the output is far too large: check the sign of the step, "
                     "x_next = x + (sigma_next - sigma) * (x - D(x, sigma)) / sigma, with sigma_next < sigma")
        else:
            rep.fail(f"the error does not shrink with more steps (slope {slope:.2f}): check that you step over every "
                     "consecutive pair (sigmas[i], sigmas[i+1]) and evaluate D at the current σ")
    elif slope < -1.6:
        rep.fail(f"your sampler is second order (slope {slope:.2f}): that is Heun's method. Euler takes the slope at "
                 "the start of each step only")
    elif not -1.3 <= slope <= -0.7:
        rep.fail(f"the error falls with slope {slope:.2f}; an Euler sampler should give -1")
    if errs[-1] > 0.05 and slope <= -0.3:
        rep.fail(f"with 256 steps the relative error is still {errs[-1]:.3g} (a correct Euler sampler: 0.014)")
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Core theory (chapters 3-6)
# ------------------------------------------------------------------------------------------------------------------

def _weight_checks(fn, reference, rep, *, q_range, rate_name, mistakes, n=200, seed=0, strict_zero=True):
    """Shared checks of a per-mode weight function fn(lam, sigma, tau, eta=, q=) against ``reference``."""
    rng = np.random.default_rng(seed)
    lam, sigma, tau = _random_modes(rng, n)
    eta = float(10.0 ** rng.uniform(-1, 0.5))
    q = rng.uniform(*q_range, n)
    ref = reference(lam, sigma, tau, eta, q)
    # 1) element-wise on random inputs
    try:
        got = _as_array(_call(fn, "function", lam, sigma, tau, eta=eta, q=q), "function", lam.shape)
    except _StudentError as err:
        rep.fail(str(err))
        return
    tol = 1e-8 + 1e-6 * np.abs(ref)  # closed forms agree to rounding; 1e-6 leaves room for other algebra
    bad = np.abs(got - ref) > tol
    if bad.any():
        i = int(np.argmax(np.abs(got - ref) / tol))
        rep.fail(f"wrong value on {bad.sum()} of {n} random inputs; e.g. lam={lam[i]:.4g}, sigma={sigma[i]:.4g}, "
                 f"tau={tau[i]:.4g}, eta={eta:.4g}, q={q[i]:.4g}: you give {got[i]:.6g}, expected {ref[i]:.6g}")
        for name, wrong in mistakes:
            if np.allclose(got, wrong(lam, sigma, tau, eta, q), rtol=1e-6, atol=1e-8):
                rep.fail(name)
                break
        # limits tell which part is wrong
        try:
            at0 = _as_array(_call(fn, "function", lam, sigma, 0.0 * tau, eta=eta, q=q), "function", lam.shape,
                            finite=False)
            atinf = _as_array(_call(fn, "function", lam, sigma, 1e6 / (eta * lam), eta=eta, q=q), "function",
                              lam.shape, finite=False)
        except _StudentError as err:
            rep.fail(str(err))
            return
        wstar = lam / (lam + sigma**2)
        if not np.allclose(at0, q, rtol=1e-6, atol=1e-9):
            rep.fail("at tau = 0 your weight should equal the initial weight q, but it does not")
        if not np.allclose(atinf, wstar, rtol=1e-6, atol=1e-9):
            rep.fail("after a very long training time your weight should reach the ridge optimum "
                     "w* = lam / (lam + sigma**2), but it does not")
        elif np.allclose(at0, q, rtol=1e-6, atol=1e-9):
            rep.fail(f"the start (q) and end (w*) are right, so the *speed* is wrong: check the rate {rate_name}")
        return
    # 2) broadcasting: modes along rows, training times along columns
    lam_c, tau_r = lam[:5, None], np.logspace(-2, 2, 7)[None, :]
    try:
        grid = _as_array(_call(fn, "function", lam_c, sigma[0], tau_r, eta=eta, q=q[0]), "function", (5, 7))
    except _StudentError as err:
        rep.fail(str(err) + " (lam of shape (5, 1), tau of shape (1, 7))")
        return
    if not np.allclose(grid, reference(lam_c, sigma[0], tau_r, eta, q[0]), rtol=1e-6, atol=1e-9):
        rep.fail("correct element by element, but wrong when lam has shape (5, 1) and tau shape (1, 7): "
                 "use numpy operations that broadcast")
    # 3) edge cases: a mode with no variance, a weight starting at its optimum
    try:
        zero = _as_array(_call(fn, "function", np.array([0.0]), np.array([1.0]), np.array([3.0]), eta=1.0,
                               q=np.array([0.5])), "function", (1,), finite=strict_zero)
    except _StudentError as err:
        rep.fail(str(err) + " (edge case lam = 0)")
        return
    ref0 = reference(np.array([0.0]), np.array([1.0]), np.array([3.0]), 1.0, np.array([0.5]))
    if not np.allclose(zero, ref0, rtol=1e-6, atol=1e-12):
        msg = f"for a mode with no variance (lam = 0) you give {zero[0]:.6g}, expected {ref0[0]:.6g}"
        if strict_zero:
            rep.fail(msg)
        else:  # the textbook form K q / ((K - q) E + q) is 0/0 at lam = 0: worth knowing, not a failure
            rep.note(msg + ": rewrite the formula so that it has no 0/0 when lam = 0 (divide through by K)")
    rep.note(f"compared on {n} random inputs (lam in [1e-3, 10], sigma in [0.002, 80], tau in [1e-3, 100]), on a "
             "(5, 7) broadcast grid and at lam = 0")


@_guarded("one-layer weight, eq. (7)")
def check_one_layer_weight(fn, *, verbose=True) -> Verdict:
    """Your per-mode one-layer weight w_k(σ, τ) = w* + (Q - w*) e^{-2ητ(σ² + λ)}, w* = λ/(λ + σ²) (eq. 7).

    ``fn(lam, sigma, tau, eta=..., q=...)`` is compared with :func:`spectral_bias.theory.one_layer_weight` on 200
    random inputs (relative tolerance 1e-6: both are the same closed form, so only rounding differs), on a
    broadcast grid and at λ = 0; typical mistakes (rate without the 2 or without σ², target λ/(λ + σ)) are named.
    """
    from . import theory

    _check_callable(fn, "fn")
    rep = _Report("one-layer weight, eq. (7)")

    def ref(lam, sigma, tau, eta, q):
        return theory.one_layer_weight(lam, sigma, tau, eta=eta, q=q)

    def w_with(rate_fn, target_fn=lambda l, s: l / (l + s**2)):
        return lambda lam, s, t, eta, q: target_fn(lam, s) + (q - target_fn(lam, s)) * np.exp(-rate_fn(lam, s, eta) * t)

    mistakes = [
        ("your rate is eta (sigma^2 + lam), half the right one: the gradient of (w - 1)^2 lam + sigma^2 w^2 "
         "brings a factor 2, so the rate is 2 eta (sigma^2 + lam)", w_with(lambda l, s, e: e * (s**2 + l))),
        ("your rate is 2 eta lam: the noise adds sigma^2 to the input variance, so the rate is 2 eta (sigma^2 + lam)",
         w_with(lambda l, s, e: 2 * e * l)),
        ("your rate is 4 eta (sigma^2 + lam), twice the right one (the loss is not halved here: "
         "dw/dtau = -eta dL/dw = -2 eta ((lam + sigma^2) w - lam))", w_with(lambda l, s, e: 4 * e * (s**2 + l))),
        ("your target is lam / (lam + sigma) : the optimum divides by the input variance lam + sigma^2",
         w_with(lambda l, s, e: 2 * e * (s**2 + l), lambda l, s: l / (l + s))),
    ]
    _weight_checks(fn, ref, rep, q_range=(-0.5, 1.5), rate_name="2 eta (sigma^2 + lam)", mistakes=mistakes)
    return rep.done(verbose)


@_guarded("two-layer weight, eq. (8)")
def check_two_layer_weight(fn, *, verbose=True) -> Verdict:
    """Your symmetric two-layer (D = P Pᵀ x) per-mode weight: logistic growth from Q to w* at rate 8ηλ (eq. 8).

    ``fn(lam, sigma, tau, eta=..., q=...)`` (with q > 0) is compared with the gradient flow itself: the per-mode
    ODE dw/dτ = 8η w (λ - (λ + σ²) w) (the gradient flow of P for W = P Pᵀ, Prop. 5.1) solved by
    ``scipy.integrate.solve_ivp`` (rtol 1e-11), so the checker does not trust any closed form. Tolerance: relative
    1e-6 (the ODE solve is accurate to ~1e-9). Typical mistakes (σ-dependent rate, rate 4ηλ of the balanced P Q
    model, the one-layer exponential) are named.
    """
    _check_callable(fn, "fn")
    rep = _Report("two-layer weight, eq. (8)")

    def ref(lam, sigma, tau, eta, q):
        return _logistic_ode(lam, sigma, tau, eta, q)

    def logistic(rate_fn):
        def w(lam, s, t, eta, q):
            ws = lam / (lam + s**2)
            return ws * q / ((ws - q) * np.exp(-rate_fn(lam, s, eta) * t) + q)
        return w

    mistakes = [
        ("your rate is 4 eta lam: that is the balanced two-factor model W = P Q; for W = P P^T both factors are the "
         "same matrix and the rate doubles to 8 eta lam", logistic(lambda l, s, e: 4 * e * l)),
        ("your rate depends on sigma (8 eta (lam + sigma^2)): in the two-layer model the logistic rate is "
         "8 eta lam, the same at every noise level", logistic(lambda l, s, e: 8 * e * (l + s**2))),
        ("your weight is the one-layer exponential of eq. (7): the two-layer weight grows logistically (an S-curve "
         "in log tau)", lambda lam, s, t, eta, q: lam / (lam + s**2) + (q - lam / (lam + s**2))
         * np.exp(-2 * eta * t * (s**2 + lam))),
    ]
    _weight_checks(fn, ref, rep, q_range=(0.01, 1.2), rate_name="8 eta lam", mistakes=mistakes, n=60,
                   strict_zero=False)
    return rep.done(verbose)


def _logistic_ode(lam, sigma, tau, eta, q):
    """Solve dw/dτ = 8η w (λ - (λ+σ²) w), w(0) = q, element-wise (broadcast inputs), by solve_ivp in log-time."""
    from scipy.integrate import solve_ivp

    lam, sigma, tau, q = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (lam, sigma, tau, q)))
    out = np.empty(lam.shape)
    for idx in np.ndindex(lam.shape):
        l, s, t, w0 = lam[idx], sigma[idx], tau[idx], q[idx]
        if t == 0 or w0 == 0:
            out[idx] = w0
            continue
        # integrate in u = 8 η λ τ (dimensionless) when λ > 0; the solution is then w*(...) of u only
        rhs = lambda _, w: [8.0 * eta * w[0] * (l - (l + s**2) * w[0])]  # noqa: E731
        sol = solve_ivp(rhs, (0.0, t), [w0], method="LSODA", rtol=1e-11, atol=1e-14)
        out[idx] = sol.y[0, -1]
    return out


@_guarded("converged generated variance")
def check_generated_variance_converged(fn, *, verbose=True) -> Verdict:
    """Your generated variance at convergence, λ̂ = σ_max² (λ + σ_min²)/(λ + σ_max²).

    ``fn(lam, sigma_min=..., sigma_max=...)`` is compared with
    :func:`spectral_bias.theory.generated_variance_converged` on random λ in [1e-4, 1e3] and random (σ_min, σ_max),
    relative tolerance 1e-9 (same closed form), and at λ = 0; answers equal to λ or to λ + σ_min² are explained.
    """
    from . import theory

    _check_callable(fn, "fn")
    rep = _Report("converged generated variance")
    rng = np.random.default_rng(1)
    lam = 10.0 ** rng.uniform(-4, 3, 100)
    cases = [(SIGMA_MIN, SIGMA_MAX), (0.01, 5.0), (1e-3, 200.0)]
    for s0, sT in cases:
        ref = theory.generated_variance_converged(lam, sigma_min=s0, sigma_max=sT)
        try:
            got = _as_array(_call(fn, "function", lam, sigma_min=s0, sigma_max=sT), "function", lam.shape)
        except _StudentError as err:
            rep.fail(str(err))
            return rep.done(verbose)
        if np.allclose(got, ref, rtol=1e-9, atol=0):
            continue
        i = int(np.argmax(np.abs(got / ref - 1)))
        rep.fail(f"with sigma_min={s0}, sigma_max={sT}: for lam={lam[i]:.4g} you give {got[i]:.6g}, "
                 f"expected {ref[i]:.6g}")
        if np.allclose(got, lam, rtol=1e-9):
            rep.fail("you return lam itself: the sampler starts from N(0, sigma_max^2), not from the noised data "
                     "N(0, lam + sigma_max^2), and stops at sigma_min > 0, so the output variance is "
                     "sigma_max^2 (lam + sigma_min^2) / (lam + sigma_max^2)")
        elif np.allclose(got, lam + s0**2, rtol=1e-9):
            rep.fail("you return lam + sigma_min^2: that is what a sampler started from the exact marginal "
                     "N(0, lam + sigma_max^2) would give; ours starts from N(0, sigma_max^2)")
        elif np.allclose(got, sT * (lam + s0**2) / (lam + sT**2), rtol=1e-9):
            rep.fail("you multiply by sigma_max instead of sigma_max^2: the start has variance sigma_max^2")
        return rep.done(verbose)
    got0 = _as_array(_call(fn, "function", np.array([0.0]), sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX),
                     "function (at lam = 0)", (1,))
    if not np.allclose(got0, SIGMA_MIN**2, rtol=1e-9, atol=0):
        rep.fail(f"for lam = 0 the output variance is sigma_min^2 = {SIGMA_MIN ** 2:.3g}; you give {got0[0]:.6g}")
    rep.note(f"compared on 100 variances in [1e-4, 1e3] for (sigma_min, sigma_max) in {cases} and at lam = 0")
    return rep.done(verbose)


@_guarded("generated variance, Prop. 4.2")
def check_generated_variance(fn, *, verbose=True) -> Verdict:
    """Your generated variance during training, λ̂_k(τ) of Prop. 4.2 (one-layer, aligned initial weight Q).

    ``fn(lam, tau, eta=..., q=..., sigma_min=..., sigma_max=...)`` (closed form or numerical quadrature of
    ln λ̂ = ln σ_max² - 2 ∫_{σ_min}^{σ_max} (1 - w(s, τ))/s ds) is compared with
    :func:`spectral_bias.theory.one_layer_generated_variance` on random (λ, ητ, Q) and in the limits τ = 0 and
    τ → ∞. Tolerance: relative 1e-4 (a careful quadrature reaches 1e-8; 1e-4 still separates every mistake named
    below by orders of magnitude). Recognised mistakes: the wrong sign in the exponent (Lemma 4.1), a missing
    σ_max² (the start variance), a start from N(0, λ + σ_max²).
    """
    from . import theory

    _check_callable(fn, "fn")
    rep = _Report("generated variance, Prop. 4.2")
    rng = np.random.default_rng(2)
    n = 40
    lam = 10.0 ** rng.uniform(-3, 1, n)
    tau = 10.0 ** rng.uniform(-3, 3, n)
    q = rng.uniform(0.0, 0.9, n)
    eta = 0.5
    kw = dict(sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX)
    ref = theory.one_layer_generated_variance(lam, tau, eta=eta, q=q, **kw)
    try:
        got = _as_array(_call(fn, "function", lam, tau, eta=eta, q=q, **kw), "function", lam.shape)
    except _StudentError as err:
        rep.fail(str(err))
        return rep.done(verbose)
    if np.allclose(got, ref, rtol=1e-4, atol=0):
        # limits, and independence of the answer from how eta and tau are split
        try:
            at0 = _as_array(_call(fn, "function", lam, 0.0 * tau, eta=eta, q=q, **kw), "function", lam.shape,
                            finite=False)
            late = _as_array(_call(fn, "function", lam, 1e4 / lam, eta=1.0, q=q, **kw), "function", lam.shape)
            split = _as_array(_call(fn, "function", lam, 2 * tau, eta=eta / 2, q=q, **kw), "function", lam.shape)
        except _StudentError as err:
            rep.fail(str(err))
            return rep.done(verbose)
        if not np.allclose(at0, theory.generated_variance_at_init(q, **kw), rtol=1e-4):
            rep.fail("at tau = 0 every mode should have sigma_max^2 (sigma_min/sigma_max)^(2(1 - q)) "
                     "(a constant weight q contracts all modes alike); yours does not (0/0 at tau = 0?)")
        if not np.allclose(late, theory.generated_variance_converged(lam, **kw), rtol=1e-4):
            rep.fail("after very long training the variance should be sigma_max^2 (lam + sigma_min^2) / "
                     "(lam + sigma_max^2); yours is not")
        if not np.allclose(split, got, rtol=1e-6):
            rep.fail("your answer changes when eta is halved and tau doubled: only the product eta*tau may matter")
        rep.note(f"compared on {n} random (lam, eta*tau, q), at tau = 0, after long training, and with eta*tau split "
                 "differently")
        return rep.done(verbose)
    with np.errstate(all="ignore"):
        ratio = got / ref
    i = int(np.nanargmax(np.abs(np.log(np.where(ratio > 0, ratio, np.nan))))) if np.any(ratio > 0) else 0
    rep.fail(f"e.g. lam={lam[i]:.4g}, eta*tau={eta * tau[i]:.4g}, q={q[i]:.3g}: you give {got[i]:.6g}, "
             f"expected {ref[i]:.6g}")
    log_ref = np.log(ref)
    lnT2 = 2 * np.log(SIGMA_MAX)
    if np.allclose(np.log(np.abs(got) + 1e-300), 2 * lnT2 - log_ref, rtol=1e-4, atol=1e-6):
        rep.fail("the sign of the integral is flipped: integrating dx/dsigma = -(D - x)/sigma from sigma_max DOWN to "
                 "sigma_min gives ln var = ln sigma_max^2 - 2 * integral of (1 - w(s))/s ds (sanity check: w = 0 "
                 "must shrink the variance by (sigma_min/sigma_max)^2)")
    elif np.allclose(got * SIGMA_MAX**2, ref, rtol=1e-4):
        rep.fail("you left out the factor sigma_max^2: sampling starts from N(0, sigma_max^2), so the ratio of the "
                 "Phi's multiplies sigma_max^2")
    elif np.allclose(got, ref * (lam + SIGMA_MAX**2) / SIGMA_MAX**2, rtol=1e-4):
        rep.fail("you start from N(0, lam + sigma_max^2); the sampler starts from N(0, sigma_max^2)")
    return rep.done(verbose)


@_guarded("emergence time")
def check_emergence_time(fn, *, verbose=True) -> Verdict:
    """Your emergence (first-passage) time through the geometric mean of a mode's start and target (§3.5).

    ``fn(times, values, target)`` gets a 1-D increasing grid ``times``, the generated variance of one mode on it
    (``values``, same shape, > 0) and the target λ; it must return the first time at which ``values`` crosses
    sqrt(values[0] * target), upwards for a mode that starts below, downwards for one that starts above, and NaN
    (or None) if it never does. Trajectories come from :func:`spectral_bias.theory.one_layer_generated_variance`;
    the reference crossing is :func:`spectral_bias.theory.emergence_time`. Any answer inside the grid interval
    that brackets the crossing passes (linear, log-linear or no interpolation are all fine).
    """
    from . import theory

    _check_callable(fn, "fn")
    rep = _Report("emergence time")
    times = np.logspace(-3, 4, 57)
    # (lam, q): rising modes over four decades, and modes that start above their target and fall
    cases = [(10.0, 0.1), (1.0, 0.1), (0.1, 0.1), (0.01, 0.1), (1e-3, 0.2), (0.5, 1.0), (0.05, 1.0)]
    for lam, q in cases:
        traj = theory.one_layer_generated_variance(lam, times, q=q)
        res = theory.emergence_time(times, traj, lam)
        j = int(np.argmax(times >= res.tau_star)) if np.isfinite(res.tau_star) else None
        lo, hi = (times[max(j - 1, 0)], times[j])
        try:
            got = _call(fn, "function", times.copy(), traj.copy(), lam)
        except _StudentError as err:
            rep.fail(str(err))
            return rep.done(verbose)
        got = np.nan if got is None else _as_number(got, "function (a time)", finite=False)
        kind = "rising" if res.direction == "increasing" else "falling"
        if lo * (1 - 1e-9) <= got <= hi * (1 + 1e-9):
            continue
        rep.fail(f"for a {kind} mode (lam={lam:g}, q={q:g}) you give {got:.4g}; the crossing lies between "
                 f"{lo:.4g} and {hi:.4g}")
        if float(got).is_integer() and 0 <= got < times.size and got in (j, j - 1):
            rep.fail("you returned the index of the crossing, not the time: return times[index]")
        elif kind == "falling":
            rep.fail("this mode starts above its target (q = 1 makes the initial variance sigma_max^2), so it "
                     "crosses the threshold downwards: test values <= threshold for such modes")
        else:
            for name, thr in [("arithmetic", (traj[0] + lam) / 2), ("harmonic", 2 / (1 / traj[0] + 1 / lam)),
                              ("target itself", lam)]:
                k = int(np.argmax(traj >= thr)) if np.any(traj >= thr) else None
                if k is not None and times[max(k - 1, 0)] * (1 - 1e-9) <= got <= times[k] * (1 + 1e-9):
                    what = "the target lam itself" if name == "target itself" else f"the {name} mean"
                    rep.fail(f"your answer is the crossing of {what}; the book's criterion is the geometric mean "
                             "sqrt(values[0] * target)")
                    break
        return rep.done(verbose)
    # a trajectory that never reaches its threshold
    short = times[:10]
    traj = theory.one_layer_generated_variance(1e-3, short, q=0.1)
    got = _call(fn, "function", short.copy(), traj.copy(), 1e-3)
    got = np.nan if got is None else _as_number(got, "function (a time)", finite=False)
    if not np.isnan(got):
        rep.fail(f"for a mode that never crosses its threshold return NaN (or None), not {got!r}")
    rep.note(f"checked {len(cases)} modes (rising and falling) on a log grid of {times.size} times, and one mode "
             "that never crosses")
    return rep.done(verbose)
