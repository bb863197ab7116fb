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

Checkers and the chapters whose exercises use them:

- chapter 1: the loss floor (:func:`check_loss_floor`), an Euler sampler (:func:`check_euler_sampler`), a Heun
  step (:func:`check_heun_step`);
- chapter 2: the matched Gaussian's moments (:func:`check_matched_gaussian`);
- chapter 3: the one-layer weight, eq. (7), rate 2η(σ² + λ) (:func:`check_one_layer_weight`);
- chapter 4: the generated variance at initialisation and at convergence (:func:`check_generated_variance_at_init`,
  :func:`check_generated_variance_converged`) and during training, Prop. 4.2 (:func:`check_generated_variance`);
- chapter 5 and the explore page: the emergence time (:func:`check_emergence_time`) and the exponent of the
  inverse-variance law from trajectories (:func:`check_emergence_exponent`);
- chapter 6: the symmetric two-layer (logistic, rate 8ηλ) weight, eq. (8) (:func:`check_two_layer_weight`);
- chapter 7: the patch covariance of Prop. 5.4 (:func:`check_patch_covariance`);
- chapter 8: the EDM-preconditioned initial weight c_skip (:func:`check_preconditioned_initial_weight`);
- chapter 9: the alignment score χ (:func:`check_alignment_score`);
- chapter 10: the EDM-preconditioned linear null model (:func:`check_preconditioned_weight`);
- chapter 12: the rate of a linear denoiser with one matrix shared by every noise level
  (:func:`check_shared_weight_rate`).

Every checker treats an answer that is not a finite real number of the right shape (NaN, inf, a string, None,
booleans, complex numbers, a wrong shape, an exception raised by your code) as wrong and says why; it never
crashes on your answer. Only bad arguments of the *checker* (e.g. a negative ``lam`` in
:func:`check_loss_floor`) raise a ValueError naming the argument.

How a checker is built (for authors of new ones): the answer is validated once by shared helpers (a finite real
number or array of the right shape), compared with the reference case by case (one short ``_*_case`` function per
checker), and a wrong answer is matched against the checker's table of named mistakes, a list of
(message, value) or (message, test) pairs built by one ``_*_mistakes`` function; the first match is reported.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import theory
from .theory.constants import SIGMA_MAX, SIGMA_MIN

__all__ = [
    "Verdict",
    "check_alignment_score",
    "check_emergence_exponent",
    "check_emergence_time",
    "check_euler_sampler",
    "check_generated_variance",
    "check_generated_variance_at_init",
    "check_generated_variance_converged",
    "check_heun_step",
    "check_loss_floor",
    "check_matched_gaussian",
    "check_one_layer_weight",
    "check_patch_covariance",
    "check_preconditioned_initial_weight",
    "check_preconditioned_weight",
    "check_shared_weight_rate",
    "check_two_layer_weight",
]


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
        head = f"PASSED {self.exercise}" if self.passed else f"NOT YET {self.exercise}: {len(self.problems)} problem(s)"
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


def _kind_problem(out, what, verb="returned"):
    """A sentence saying why ``out`` is not a real number or array of real numbers, or None when it is one."""
    if out is None:
        hint = ": did you forget the `return` statement?" if verb == "returned" else ""
        return f"your {what} {verb} None{hint}"
    if isinstance(out, (str, bytes)):
        return f"your {what} {verb} a string ({out!r:.40}), not numbers"
    if isinstance(out, (bool, np.bool_)) or (isinstance(out, np.ndarray) and out.dtype == bool):
        return f"your {what} {verb} True/False (booleans), not numbers"
    if isinstance(out, np.ma.MaskedArray) and np.ma.getmaskarray(out).any():
        return f"your {what} {verb} masked values (numpy.ma), not numbers"
    if isinstance(out, dict) or callable(out):
        return f"your {what} {verb} a {type(out).__name__}, not numbers"
    try:
        arr = np.asarray(out)
    except Exception:  # ragged lists and other objects numpy cannot hold
        return f"your {what} {verb} {type(out).__name__}, not numbers"
    if np.iscomplexobj(arr):
        return (
            f"your {what} {verb} complex numbers: the answer is real (a square root or log of a negative "
            "number somewhere?)"
        )
    if arr.dtype.kind not in "iuf":
        try:
            np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            return f"your {what} {verb} {type(out).__name__}, not numbers"
        if any(isinstance(v, (str, bytes, bool, np.bool_)) for v in arr.ravel()):
            return f"your {what} {verb} strings or booleans inside an array, not numbers"
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
    if finite and arr.size == 1 and shape != () and not np.all(np.isfinite(arr)):
        raise _StudentError(
            f"your {what} returned {float(arr.reshape(()))} (one number, not finite) where a finite "
            f"array of shape {shape} was expected"
        )
    if arr.shape != shape:
        if arr.size == 1 and shape != ():
            raise _StudentError(
                f"your {what} returned a single number where an array of shape {shape} was "
                f"expected: make it work element-wise on numpy arrays (use np.exp, not math.exp)"
            )
        raise _StudentError(
            f"your {what} returned shape {arr.shape}, expected {shape}: it should broadcast its "
            f"array arguments like numpy does"
        )
    if finite and not np.all(np.isfinite(arr)):
        bad = ~np.isfinite(arr)
        which = "NaN" if np.isnan(arr[bad]).all() else ("inf" if np.isinf(arr[bad]).all() else "NaN/inf")
        where = "" if arr.ndim == 0 else f" in {int(bad.sum())} of {arr.size} entries"
        raise _StudentError(
            f"your {what} returned {which}{where}: look for a 0/0, a division by zero, an overflow "
            "(exp of a large number) or the log of a negative number"
        )
    return arr


def _as_number(out, what, *, finite=True, verb="returned"):
    """The student's answer as one float (a size-1 array is accepted), or a _StudentError explaining why not."""
    problem = _kind_problem(out, what, verb)
    if problem:
        raise _StudentError(problem)
    arr = np.asarray(out, dtype=float)
    if arr.size != 1:
        raise _StudentError(f"your {what} should be one number, got an array of shape {arr.shape}")
    val = float(arr.reshape(()))
    if finite and not math.isfinite(val):
        shown = "NaN" if math.isnan(val) else val
        raise _StudentError(
            f"your {what} is {shown}, not a finite number: look for a 0/0, a division by zero or "
            "the log of a negative number"
        )
    return val


def _check_callable(fn, name):
    if not callable(fn):
        hint = " (you passed None: did the cell defining your function run?)" if fn is None else ""
        raise _StudentError(
            f"{name} must be your function itself (a callable), got {type(fn).__name__}{hint}: "
            f"write check(my_function), not check(my_function(...))"
        )


def _random_modes(rng, n):
    """Variances spread over 4 decades, noise levels over the EDM range, training times over 5 decades."""
    lam = 10.0 ** rng.uniform(-3, 1, n)
    sigma = 10.0 ** rng.uniform(np.log10(SIGMA_MIN), np.log10(SIGMA_MAX), n)
    tau = 10.0 ** rng.uniform(-3, 2, n)
    return lam, sigma, tau


def _named(rep, got, candidates, rtol=1e-6, atol=1e-10):
    """Name the first mistake in the table ``candidates`` [(message, value), ...] that ``got`` reproduces (same
    shape, equal within ``rtol``/``atol``); returns whether one was named."""
    for msg, wrong in candidates:
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == np.shape(got) and np.allclose(got, wrong, rtol=rtol, atol=atol):
            rep.fail(msg)
            return True
    return False


def _first_mistake(rep, candidates):
    """Name the first mistake in the table ``candidates`` [(message, matched), ...] whose test ``matched`` holds
    (for mistakes recognised by a test other than "equals this value"); returns whether one was named."""
    for msg, matched in candidates:
        if matched:
            rep.fail(msg)
            return True
    return False


def _every_problem(rep, candidates):
    """Report every message of ``candidates`` [(message, found), ...] whose ``found`` holds (independent checks)."""
    for msg, found in candidates:
        if found:
            rep.fail(msg)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 1
# ------------------------------------------------------------------------------------------------------------------


def _loss_floor_arguments(lam, sigma, n_samples):
    """Validate the checker's own arguments of :func:`check_loss_floor`; returns ``lam`` as a float array."""
    lam = np.asarray(lam, dtype=float)
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"lam must be a non-empty 1-D array of non-negative variances, got {lam!r}")
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    return lam


def _loss_floor_mistakes(mse, floor, se, z, lam, sigma, n_samples):
    """The named mistakes of a Monte Carlo loss ``mse`` more than 4 standard errors ``se`` from ``floor``, as
    [(message, matched), ...]: averaged over coordinates (floor / d), the noisy input's error d σ², too large, too
    small; ``z`` is the signed distance in standard errors."""
    d = lam.size
    return [
        (
            f"it equals the formula divided by d = {d}: you averaged the squared error over coordinates too "
            "(np.mean over everything). The loss sums over coordinates and averages over samples: "
            "np.mean(np.sum(err**2, axis=1))",
            d > 1 and abs(mse - floor / d) <= 4.0 * se / d,
        ),
        (
            f"it equals d σ² = {d * sigma**2:.4g}, the error of the *noisy input*: apply the denoiser to "
            "x0 + σ z before comparing with x0",
            abs(mse - d * sigma**2) <= 4.0 * sigma**2 * math.sqrt(2.0 * d / n_samples),
        ),
        (
            "it is too large: check that the denoiser is evaluated at the same σ you used for the noise, and "
            "that the mean μ is added back by the denoiser",
            z > 0,
        ),
        ("it is too small: the denoiser must not see the clean x0; it only sees x0 + σ z", True),
    ]


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
    rep = _Report("ex-ch1-loss-floor")
    lam = _loss_floor_arguments(lam, sigma, n_samples)
    mse = _as_number(mse, "mse (your average squared error)", verb="is")
    floor = float(theory.loss_floor(lam, sigma))
    r = lam * sigma**2 / (lam + sigma**2)
    se = math.sqrt(2.0 * np.sum(r**2) / n_samples)
    z = (mse - floor) / se
    if abs(z) <= 4.0:
        rep.note(f"your {mse:.5g} vs the formula {floor:.5g}: {z:+.1f} standard errors (se = {se:.2g})")
        return rep.done(verbose)
    rep.fail(
        f"your loss {mse:.5g} is {z:+.1f} standard errors from the formula {floor:.5g} (se = {se:.2g} "
        f"for n = {n_samples})"
    )
    _first_mistake(rep, _loss_floor_mistakes(mse, floor, se, z, lam, sigma, n_samples))
    return rep.done(verbose)


def _euler_errors(sampler, denoiser, count, exact, ns):
    """Run the reader's Euler ``sampler`` with the exact ``denoiser`` of the modes from x_T = σ_max over the EDM
    schedules of ``ns`` points (``count[0]`` counts the denoiser's calls); returns (the largest relative error
    against ``exact`` for each n, the number of denoiser calls for each n). A non-finite output is the reader's
    problem (a _StudentError)."""
    errs, calls = [], []
    for n in ns:
        sig = theory.edm_sigma_schedule(int(n))
        count[0] = 0
        out = _as_array(
            _call(sampler, "sampler", denoiser, np.full(exact.shape, SIGMA_MAX), sig.copy()),
            "sampler",
            exact.shape,
            finite=False,
        )
        if not np.all(np.isfinite(out)):
            raise _StudentError(
                f"with {n} steps your sampler returned non-finite values (NaN or inf: {out}); look for a division "
                "by σ = 0"
            )
        errs.append(np.max(np.abs(out / exact - 1.0)))
        calls.append(count[0])
    return np.array(errs), calls


def _euler_order_mistakes(slope, errs):
    """The named mistakes of an Euler sampler whose log-log error ``slope`` is not -1, as [(message, matched), ...]:
    no convergence (a flipped step sign when the output blows up, else skipped steps), second order (Heun)."""
    no_shrink = slope > -0.3
    return [
        (
            f"the error does not shrink with more steps (slope {slope:.2f}; error {errs[-1]:.3g} at 256 "
            "steps) and the output is far too large: check the sign of the step, "
            "x_next = x + (sigma_next - sigma) * (x - D(x, sigma)) / sigma, with sigma_next < sigma",
            no_shrink and errs[-1] > 1.0,
        ),
        (
            f"the error does not shrink with more steps (slope {slope:.2f}): check that you step over every "
            "consecutive pair (sigmas[i], sigmas[i+1]) and evaluate D at the current σ",
            no_shrink,
        ),
        (
            f"your sampler is second order (slope {slope:.2f}): that is Heun's method. Euler takes the slope at "
            "the start of each step only",
            slope < -1.6,
        ),
        (f"the error falls with slope {slope:.2f}; an Euler sampler should give -1", not -1.3 <= slope <= -0.7),
    ]


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
    _check_callable(sampler, "sampler")
    rep = _Report("ex-ch1-euler")
    lam = np.array([4.0, 0.5, 0.09, 0.01])
    exact = SIGMA_MAX * np.sqrt((lam + SIGMA_MIN**2) / (lam + SIGMA_MAX**2))
    ns = np.array([16, 32, 64, 128, 256])
    count = [0]

    def denoiser(x, sigma, _count=count):
        _count[0] += 1
        return theory.optimal_weight(lam, sigma) * np.asarray(x)

    errs, calls = _euler_errors(sampler, denoiser, count, exact, ns)
    if calls[0] == 0:
        return rep.fail_now("your sampler never called the denoiser", verbose)
    steps = ns - 1
    if not np.all(np.array(calls) == steps):
        per = np.array(calls) / steps
        rep.fail(
            f"Euler uses one denoiser evaluation per step; yours used {per[-1]:.2g} per step "
            f"({calls[-1]} calls for {steps[-1]} steps)"
        )
    if np.all(errs < 1e-12):
        rep.fail(
            "your sampler returns the exact answer for every number of steps: it should integrate the ODE, not "
            "use the closed form"
        )
        return rep.done(verbose)
    slope = float(np.polyfit(np.log(ns), np.log(np.maximum(errs, 1e-300)), 1)[0])
    rep.note(
        f"relative errors for n = {ns.tolist()} steps: {np.array2string(errs, precision=2)}; log-log slope {slope:.2f}"
    )
    _first_mistake(rep, _euler_order_mistakes(slope, errs))
    if errs[-1] > 0.05 and slope <= -0.3:
        rep.fail(f"with 256 steps the relative error is still {errs[-1]:.3g} (a correct Euler sampler: 0.014)")
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Core theory (chapters 3-6)
# ------------------------------------------------------------------------------------------------------------------


def _weight_limit_problems(fn, rep, lam, sigma, tau, eta, q, rate_name):
    """Which part of a wrong per-mode weight is wrong: its start (τ = 0 must give q), its end (long training must
    give w* = λ/(λ + σ²)) or, when both are right, its rate ``rate_name``."""
    try:
        at0 = _as_array(_call(fn, "function", lam, sigma, 0.0 * tau, eta=eta, q=q), "function", lam.shape, finite=False)
        atinf = _as_array(
            _call(fn, "function", lam, sigma, 1e6 / (eta * lam), eta=eta, q=q), "function", lam.shape, finite=False
        )
    except _StudentError as err:
        rep.fail(str(err))
        return
    wstar = lam / (lam + sigma**2)
    start_right = np.allclose(at0, q, rtol=1e-6, atol=1e-9)
    if not start_right:
        rep.fail("at tau = 0 your weight should equal the initial weight q, but it does not")
    if not np.allclose(atinf, wstar, rtol=1e-6, atol=1e-9):
        rep.fail(
            "after a very long training time your weight should reach the ridge optimum "
            "w* = lam / (lam + sigma**2), but it does not"
        )
    elif start_right:
        rep.fail(f"the start (q) and end (w*) are right, so the *speed* is wrong: check the rate {rate_name}")


def _weight_on_random_inputs(fn, reference, rep, inputs, mistakes, rate_name):
    """Step 1 of the weight checks: ``fn`` against ``reference`` element-wise on the random ``inputs``
    (lam, sigma, tau, eta, q); a wrong answer is matched against the table ``mistakes`` [(message, weight
    function), ...] and diagnosed by its limits. Returns whether it was right."""
    lam, sigma, tau, eta, q = inputs
    ref = reference(lam, sigma, tau, eta, q)
    try:
        got = _as_array(_call(fn, "function", lam, sigma, tau, eta=eta, q=q), "function", lam.shape)
    except _StudentError as err:
        rep.fail(str(err))
        return False
    tol = 1e-8 + 1e-6 * np.abs(ref)  # closed forms agree to rounding; 1e-6 leaves room for other algebra
    bad = np.abs(got - ref) > tol
    if not bad.any():
        return True
    i = int(np.argmax(np.abs(got - ref) / tol))
    rep.fail(
        f"wrong value on {bad.sum()} of {lam.size} random inputs; e.g. lam={lam[i]:.4g}, sigma={sigma[i]:.4g}, "
        f"tau={tau[i]:.4g}, eta={eta:.4g}, q={q[i]:.4g}: you give {got[i]:.6g}, expected {ref[i]:.6g}"
    )
    _named(rep, got, [(name, wrong(lam, sigma, tau, eta, q)) for name, wrong in mistakes], rtol=1e-6, atol=1e-8)
    _weight_limit_problems(fn, rep, lam, sigma, tau, eta, q, rate_name)
    return False


def _weight_broadcasts(fn, reference, rep, inputs):
    """Step 2 of the weight checks: modes along rows (lam of shape (5, 1)), training times along columns (tau of
    shape (1, 7)). Returns False when the call itself failed (the check stops there)."""
    lam, sigma, _, eta, q = inputs
    lam_c, tau_r = lam[:5, None], np.logspace(-2, 2, 7)[None, :]
    try:
        grid = _as_array(_call(fn, "function", lam_c, sigma[0], tau_r, eta=eta, q=q[0]), "function", (5, 7))
    except _StudentError as err:
        rep.fail(str(err) + " (lam of shape (5, 1), tau of shape (1, 7))")
        return False
    if not np.allclose(grid, reference(lam_c, sigma[0], tau_r, eta, q[0]), rtol=1e-6, atol=1e-9):
        rep.fail(
            "correct element by element, but wrong when lam has shape (5, 1) and tau shape (1, 7): "
            "use numpy operations that broadcast"
        )
    return True


def _weight_without_variance(fn, reference, rep, strict_zero):
    """Step 3 of the weight checks: a mode with no variance (λ = 0) whose weight starts at q = 0.5. With
    ``strict_zero`` False a wrong value there is a note, not a failure. Returns False when the call failed."""
    args = (np.array([0.0]), np.array([1.0]), np.array([3.0]))
    try:
        zero = _as_array(_call(fn, "function", *args, eta=1.0, q=np.array([0.5])), "function", (1,), finite=strict_zero)
    except _StudentError as err:
        rep.fail(str(err) + " (edge case lam = 0)")
        return False
    ref0 = reference(*args, 1.0, np.array([0.5]))
    if not np.allclose(zero, ref0, rtol=1e-6, atol=1e-12):
        msg = f"for a mode with no variance (lam = 0) you give {zero[0]:.6g}, expected {ref0[0]:.6g}"
        if strict_zero:
            rep.fail(msg)
        else:  # the textbook form K q / ((K - q) E + q) is 0/0 at lam = 0: worth knowing, not a failure
            rep.note(msg + ": rewrite the formula so that it has no 0/0 when lam = 0 (divide through by K)")
    return True


def _weight_checks(fn, reference, rep, *, q_range, rate_name, mistakes, n=200, seed=0, strict_zero=True):
    """Shared checks of a per-mode weight function fn(lam, sigma, tau, eta=, q=) against ``reference``: random
    inputs (with the table of named ``mistakes``), a broadcast grid, a mode with no variance."""
    rng = np.random.default_rng(seed)
    lam, sigma, tau = _random_modes(rng, n)
    eta = float(10.0 ** rng.uniform(-1, 0.5))
    q = rng.uniform(*q_range, n)
    inputs = (lam, sigma, tau, eta, q)
    if not _weight_on_random_inputs(fn, reference, rep, inputs, mistakes, rate_name):
        return
    if not _weight_broadcasts(fn, reference, rep, inputs):
        return
    if not _weight_without_variance(fn, reference, rep, strict_zero):
        return
    rep.note(
        f"compared on {n} random inputs (lam in [1e-3, 10], sigma in [0.002, 80], tau in [1e-3, 100]), on a "
        "(5, 7) broadcast grid and at lam = 0"
    )


@_guarded("one-layer weight, eq. (7)")
def check_one_layer_weight(fn, *, verbose=True) -> Verdict:
    """Your per-mode one-layer weight w_k(σ, τ) = w* + (Q - w*) e^{-2ητ(σ² + λ)}, w* = λ/(λ + σ²) (eq. 7).

    ``fn(lam, sigma, tau, eta=..., q=...)`` is compared with :func:`spectral_bias.theory.one_layer_weight` on 200
    random inputs (relative tolerance 1e-6: both are the same closed form, so only rounding differs), on a
    broadcast grid and at λ = 0; typical mistakes (rate without the 2 or without σ², target λ/(λ + σ)) are named.
    """
    _check_callable(fn, "fn")
    rep = _Report("one-layer weight, eq. (7)")

    def ref(lam, sigma, tau, eta, q):
        return theory.one_layer_weight(lam, sigma, tau, eta=eta, q=q)

    def w_with(rate_fn, target_fn=lambda l, s: l / (l + s**2)):
        return lambda lam, s, t, eta, q: target_fn(lam, s) + (q - target_fn(lam, s)) * np.exp(-rate_fn(lam, s, eta) * t)

    mistakes = [
        (
            "your rate is eta (sigma^2 + lam), half the right one: the gradient of (w - 1)^2 lam + sigma^2 w^2 "
            "brings a factor 2, so the rate is 2 eta (sigma^2 + lam)",
            w_with(lambda l, s, e: e * (s**2 + l)),
        ),
        (
            "your rate is 2 eta lam: the noise adds sigma^2 to the input variance, so the rate is 2 eta "
            "(sigma^2 + lam)",
            w_with(lambda l, s, e: 2 * e * l),
        ),
        (
            "your rate is 4 eta (sigma^2 + lam), twice the right one (the loss is not halved here: "
            "dw/dtau = -eta dL/dw = -2 eta ((lam + sigma^2) w - lam))",
            w_with(lambda l, s, e: 4 * e * (s**2 + l)),
        ),
        (
            "your target is lam / (lam + sigma) : the optimum divides by the input variance lam + sigma^2",
            w_with(lambda l, s, e: 2 * e * (s**2 + l), lambda l, s: l / (l + s)),
        ),
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
        (
            "your rate is 4 eta lam: that is the balanced two-factor model W = P Q; for W = P P^T both factors are the "
            "same matrix and the rate doubles to 8 eta lam",
            logistic(lambda l, s, e: 4 * e * l),
        ),
        (
            "your rate depends on sigma (8 eta (lam + sigma^2)): in the two-layer model the logistic rate is "
            "8 eta lam, the same at every noise level",
            logistic(lambda l, s, e: 8 * e * (l + s**2)),
        ),
        (
            "your weight is the one-layer exponential of eq. (7): the two-layer weight grows logistically (an S-curve "
            "in log tau)",
            lambda lam, s, t, eta, q: (
                lam / (lam + s**2) + (q - lam / (lam + s**2)) * np.exp(-2 * eta * t * (s**2 + lam))
            ),
        ),
    ]
    _weight_checks(fn, ref, rep, q_range=(0.01, 1.2), rate_name="8 eta lam", mistakes=mistakes, n=60, strict_zero=False)
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
        rhs = lambda _, w: [8.0 * eta * w[0] * (l - (l + s**2) * w[0])]
        sol = solve_ivp(rhs, (0.0, t), [w0], method="LSODA", rtol=1e-11, atol=1e-14)
        out[idx] = sol.y[0, -1]
    return out


def _converged_variance_mistakes(lam, s0, sT):
    """The named mistakes of the converged generated variance for ``sigma_min = s0``, ``sigma_max = sT``, as
    [(message, value), ...]: λ itself, λ + σ_min², σ_max in place of σ_max²."""
    return [
        (
            "you return lam itself: the sampler starts from N(0, sigma_max^2), not from the noised data "
            "N(0, lam + sigma_max^2), and stops at sigma_min > 0, so the output variance is "
            "sigma_max^2 (lam + sigma_min^2) / (lam + sigma_max^2)",
            lam,
        ),
        (
            "you return lam + sigma_min^2: that is what a sampler started from the exact marginal "
            "N(0, lam + sigma_max^2) would give; ours starts from N(0, sigma_max^2)",
            lam + s0**2,
        ),
        (
            "you multiply by sigma_max instead of sigma_max^2: the start has variance sigma_max^2",
            sT * (lam + s0**2) / (lam + sT**2),
        ),
    ]


def _converged_variance_case(fn, rep, lam, s0, sT):
    """One case of :func:`check_generated_variance_converged`: is ``fn`` right for (σ_min, σ_max) = (s0, sT)?"""
    ref = theory.generated_variance_converged(lam, sigma_min=s0, sigma_max=sT)
    got = _as_array(_call(fn, "function", lam, sigma_min=s0, sigma_max=sT), "function", lam.shape)
    if np.allclose(got, ref, rtol=1e-9, atol=0):
        return True
    i = int(np.argmax(np.abs(got / ref - 1)))
    rep.fail(f"with sigma_min={s0}, sigma_max={sT}: for lam={lam[i]:.4g} you give {got[i]:.6g}, expected {ref[i]:.6g}")
    _named(rep, got, _converged_variance_mistakes(lam, s0, sT), rtol=1e-9, atol=1e-8)
    return False


@_guarded("converged generated variance")
def check_generated_variance_converged(fn, *, verbose=True) -> Verdict:
    """Your generated variance at convergence, λ̂ = σ_max² (λ + σ_min²)/(λ + σ_max²).

    ``fn(lam, sigma_min=..., sigma_max=...)`` is compared with
    :func:`spectral_bias.theory.generated_variance_converged` on random λ in [1e-4, 1e3] and random (σ_min, σ_max),
    relative tolerance 1e-9 (same closed form), and at λ = 0; answers equal to λ or to λ + σ_min² are explained.
    """
    _check_callable(fn, "fn")
    rep = _Report("converged generated variance")
    rng = np.random.default_rng(1)
    lam = 10.0 ** rng.uniform(-4, 3, 100)
    cases = [(SIGMA_MIN, SIGMA_MAX), (0.01, 5.0), (1e-3, 200.0)]
    if not all(_converged_variance_case(fn, rep, lam, s0, sT) for s0, sT in cases):
        return rep.done(verbose)
    got0 = _as_array(
        _call(fn, "function", np.array([0.0]), sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX), "function (at lam = 0)", (1,)
    )
    if not np.allclose(got0, SIGMA_MIN**2, rtol=1e-9, atol=0):
        rep.fail(f"for lam = 0 the output variance is sigma_min^2 = {SIGMA_MIN**2:.3g}; you give {got0[0]:.6g}")
    rep.note(f"compared on 100 variances in [1e-4, 1e3] for (sigma_min, sigma_max) in {cases} and at lam = 0")
    return rep.done(verbose)


def _generated_variance_limit_problems(fn, lam, tau, eta, q, got, kw):
    """The checks of a generated variance ``got`` that matches Prop. 4.2 on random inputs, as
    [(message, found), ...]: its value at τ = 0, after very long training, and with η τ split differently."""
    at0 = _as_array(_call(fn, "function", lam, 0.0 * tau, eta=eta, q=q, **kw), "function", lam.shape, finite=False)
    late = _as_array(_call(fn, "function", lam, 1e4 / lam, eta=1.0, q=q, **kw), "function", lam.shape)
    split = _as_array(_call(fn, "function", lam, 2 * tau, eta=eta / 2, q=q, **kw), "function", lam.shape)
    return [
        (
            "at tau = 0 every mode should have sigma_max^2 (sigma_min/sigma_max)^(2(1 - q)) "
            "(a constant weight q contracts all modes alike); yours does not (0/0 at tau = 0?)",
            not np.allclose(at0, theory.generated_variance_at_init(q, **kw), rtol=1e-4),
        ),
        (
            "after very long training the variance should be sigma_max^2 (lam + sigma_min^2) / "
            "(lam + sigma_max^2); yours is not",
            not np.allclose(late, theory.generated_variance_converged(lam, **kw), rtol=1e-4),
        ),
        (
            "your answer changes when eta is halved and tau doubled: only the product eta*tau may matter",
            not np.allclose(split, got, rtol=1e-6),
        ),
    ]


def _generated_variance_mistakes(got, ref, lam):
    """The named mistakes of a generated variance during training, as [(message, matched), ...]: the sign of the
    integral of Lemma 4.1 flipped, the start variance σ_max² left out, a start from N(0, λ + σ_max²)."""
    return [
        (
            "the sign of the integral is flipped: integrating dx/dsigma = -(D - x)/sigma from sigma_max DOWN to "
            "sigma_min gives ln var = ln sigma_max^2 - 2 * integral of (1 - w(s))/s ds (sanity check: w = 0 "
            "must shrink the variance by (sigma_min/sigma_max)^2)",
            np.allclose(np.log(np.abs(got) + 1e-300), 4 * np.log(SIGMA_MAX) - np.log(ref), rtol=1e-4, atol=1e-6),
        ),
        (
            "you left out the factor sigma_max^2: sampling starts from N(0, sigma_max^2), so the ratio of the "
            "Phi's multiplies sigma_max^2",
            np.allclose(got * SIGMA_MAX**2, ref, rtol=1e-4),
        ),
        (
            "you start from N(0, lam + sigma_max^2); the sampler starts from N(0, sigma_max^2)",
            np.allclose(got, ref * (lam + SIGMA_MAX**2) / SIGMA_MAX**2, rtol=1e-4),
        ),
    ]


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
    got = _as_array(_call(fn, "function", lam, tau, eta=eta, q=q, **kw), "function", lam.shape)
    if np.allclose(got, ref, rtol=1e-4, atol=0):
        _every_problem(rep, _generated_variance_limit_problems(fn, lam, tau, eta, q, got, kw))
        rep.note(
            f"compared on {n} random (lam, eta*tau, q), at tau = 0, after long training, and with eta*tau split "
            "differently"
        )
        return rep.done(verbose)
    ratio = got / ref
    i = int(np.nanargmax(np.abs(np.log(np.where(ratio > 0, ratio, np.nan))))) if np.any(ratio > 0) else 0
    rep.fail(
        f"e.g. lam={lam[i]:.4g}, eta*tau={eta * tau[i]:.4g}, q={q[i]:.3g}: you give {got[i]:.6g}, expected {ref[i]:.6g}"
    )
    _first_mistake(rep, _generated_variance_mistakes(got, ref, lam))
    return rep.done(verbose)


def _emergence_time_mistakes(got, j, kind, times, traj, lam):
    """The named mistakes of a wrong emergence time ``got`` for a mode whose crossing is at ``times[j]``, as
    [(message, matched), ...]: the index instead of the time, a falling mode tested upwards, the crossing of the
    arithmetic or harmonic mean or of the target itself instead of the geometric mean."""

    def crossing_of(thr):
        k = int(np.argmax(traj >= thr)) if np.any(traj >= thr) else None
        return k is not None and times[max(k - 1, 0)] * (1 - 1e-9) <= got <= times[k] * (1 + 1e-9)

    other_mean = (
        "your answer is the crossing of {}; the book's criterion is the geometric mean sqrt(values[0] * target)"
    )
    return [
        (
            "you returned the index of the crossing, not the time: return times[index]",
            float(got).is_integer() and 0 <= got < times.size and got in (j, j - 1),
        ),
        (
            "this mode starts above its target (q = 1 makes the initial variance sigma_max^2), so it "
            "crosses the threshold downwards: test values <= threshold for such modes",
            kind == "falling",
        ),
        (other_mean.format("the arithmetic mean"), crossing_of((traj[0] + lam) / 2)),
        (other_mean.format("the harmonic mean"), crossing_of(2 / (1 / traj[0] + 1 / lam))),
        (other_mean.format("the target lam itself"), crossing_of(lam)),
    ]


def _emergence_answer(fn, times, traj, lam):
    """The reader's emergence time for one trajectory: a number, NaN or None (never crosses) read as NaN."""
    got = _call(fn, "function", times.copy(), traj.copy(), lam)
    return np.nan if got is None else _as_number(got, "function (a time)", finite=False)


def _emergence_time_case(fn, rep, times, lam, q):
    """One case of :func:`check_emergence_time`: does ``fn`` find the crossing of the mode (λ, Q) = (lam, q)?"""
    traj = theory.one_layer_generated_variance(lam, times, q=q)
    res = theory.emergence_time(times, traj, lam)
    j = int(np.argmax(times >= res.tau_star)) if np.isfinite(res.tau_star) else None
    lo, hi = (times[max(j - 1, 0)], times[j])
    got = _emergence_answer(fn, times, traj, lam)
    kind = "rising" if res.direction == "increasing" else "falling"
    if lo * (1 - 1e-9) <= got <= hi * (1 + 1e-9):
        return True
    rep.fail(
        f"for a {kind} mode (lam={lam:g}, q={q:g}) you give {got:.4g}; the crossing lies between {lo:.4g} and {hi:.4g}"
    )
    _first_mistake(rep, _emergence_time_mistakes(got, j, kind, times, traj, lam))
    return False


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
    _check_callable(fn, "fn")
    rep = _Report("emergence time")
    times = np.logspace(-3, 4, 57)
    # (lam, q): rising modes over four decades, and modes that start above their target and fall
    cases = [(10.0, 0.1), (1.0, 0.1), (0.1, 0.1), (0.01, 0.1), (1e-3, 0.2), (0.5, 1.0), (0.05, 1.0)]
    if not all(_emergence_time_case(fn, rep, times, lam, q) for lam, q in cases):
        return rep.done(verbose)
    # a trajectory that never reaches its threshold
    short = times[:10]
    got = _emergence_answer(fn, short, theory.one_layer_generated_variance(1e-3, short, q=0.1), 1e-3)
    if not np.isnan(got):
        rep.fail(f"for a mode that never crosses its threshold return NaN (or None), not {got!r}")
    rep.note(
        f"checked {len(cases)} modes (rising and falling) on a log grid of {times.size} times, and one mode "
        "that never crosses"
    )
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 1: a Heun step
# ------------------------------------------------------------------------------------------------------------------


def _heun_reference(denoiser, x, sigma, sigma_next):
    """One Heun step of dx/dσ = (x - D(x; σ))/σ from σ to σ_next (the EDM sampler's second-order step)."""
    d = (x - denoiser(x, sigma)) / sigma
    x_euler = x + (sigma_next - sigma) * d
    d_next = (x_euler - denoiser(x_euler, sigma_next)) / sigma_next
    return x + (sigma_next - sigma) * 0.5 * (d + d_next)


def _heun_mistakes(denoiser, x, s, sn):
    """The named mistakes of a Heun step from σ = ``s`` to ``sn``, as [(message, value), ...]: the Euler predictor
    alone, the second slope at x or at σ, the second slope alone, a flipped step sign."""
    h = sn - s
    d = (x - denoiser(x, s)) / s
    xe = x + h * d
    d_at_x = (x - denoiser(x, sn)) / sn
    d_same_sigma = (xe - denoiser(xe, s)) / s
    d_next = (xe - denoiser(xe, sn)) / sn
    return [
        (
            "you return the Euler predictor x + (sigma_next - sigma) d(x, sigma): Heun then corrects it with the "
            "average of the slopes at both ends",
            xe,
        ),
        (
            "the second slope must be evaluated at the Euler predictor x_E, not at the starting point x",
            x + h * 0.5 * (d + d_at_x),
        ),
        (
            "the second slope belongs to the end of the step: evaluate D(x_E; sigma_next) and divide by sigma_next",
            x + h * 0.5 * (d + d_same_sigma),
        ),
        ("you step with the second slope alone: Heun averages the two slopes, (d + d_next) / 2", x + h * d_next),
        (
            "the sign of the step is flipped: the step is (sigma_next - sigma) times the slope, and sigma_next < sigma",
            x - h * 0.5 * (d + d_next),
        ),
    ]


def _heun_case(fn, rep, denoiser, counted, calls, x, s, sn):
    """One case of :func:`check_heun_step`: the step of ``fn`` from ``s`` to ``sn`` at ``x``, given ``counted``,
    the ``denoiser`` counting its calls in ``calls[0]`` (a Heun step makes two)."""
    calls[0] = 0
    got = _as_array(_call(fn, "function", counted, x.copy(), s, sn), "function", x.shape)
    ref = _heun_reference(denoiser, x, s, sn)
    if np.allclose(got, ref, rtol=1e-9, atol=1e-12 * s):
        if calls[0] != 2:
            rep.fail(f"the result is right but you called the denoiser {calls[0]} times: a Heun step needs 2")
        return True
    rep.fail(f"the step from sigma = {s:.4g} to {sn:.4g} is wrong (largest error {np.max(np.abs(got - ref)):.3g})")
    _named(rep, got, _heun_mistakes(denoiser, x, s, sn))
    return False


@_guarded("Heun step (ch. 1)")
def check_heun_step(fn, *, verbose=True) -> Verdict:
    """ex-ch1-heun: your one step of Heun's method for the PF-ODE dx/dσ = (x - D(x; σ))/σ (eq. PF-ODE).

    ``fn(denoiser, x, sigma, sigma_next)`` must return x at ``sigma_next`` (0 < sigma_next < sigma) using exactly two
    denoiser calls: an Euler predictor x_E = x + (σ' - σ) d(x, σ) and the trapezoidal corrector
    x + (σ' - σ) (d(x, σ) + d(x_E, σ'))/2 with d(x, s) = (x - D(x; s))/s. It is compared with that step on a
    non-linear denoiser (so closed forms of the Gaussian case cannot pass), for batches of shape (3, 4), on large and
    small steps of the EDM schedule; relative tolerance 1e-9. Whether it is second order is tested separately in
    the package tests (the reference step, iterated on the EDM schedule, converges with slope -2). Named mistakes:
    an Euler step, the corrector slope taken at x instead of x_E, the corrector at σ instead of σ', no averaging,
    a flipped step sign.
    """
    _check_callable(fn, "fn")
    rep = _Report("Heun step (ch. 1)")
    lam = np.array([4.0, 0.5, 0.09, 0.01])

    def denoiser(x, s):
        return lam / (lam + s**2) * np.tanh(np.asarray(x, dtype=float))  # shrinks like the Gaussian one, non-linear

    rng = np.random.default_rng(11)
    sig = theory.edm_sigma_schedule(18)
    calls = [0]

    def counted(xx, ss, _c=calls):
        _c[0] += 1
        return denoiser(xx, ss)

    for i in (0, 8, 15):
        s, sn = float(sig[i]), float(sig[i + 1])
        if not _heun_case(fn, rep, denoiser, counted, calls, rng.normal(size=(3, 4)) * s, s, sn):
            return rep.done(verbose)
    rep.note("compared with the reference step on a non-linear denoiser, batches of shape (3, 4), three step sizes")
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 2: the matched Gaussian
# ------------------------------------------------------------------------------------------------------------------


def _moments_of(out, n, d):
    """The reader's ``(mean, cov)`` for data of shape (n, d) as float arrays of shapes (d,) and (d, d), or a
    _StudentError saying what is wrong with them (not a pair, a mean per sample, the (n, n) covariance of rows)."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise _StudentError(
            f"your function should return two things, (mean, cov); it returned {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        )
    if np.shape(out[0]) == (n,):
        raise _StudentError(
            f"your mean has shape ({n},), one number per sample: average over the samples, x.mean(axis=0)"
        )
    mu = _as_array(out[0], "mean", (d,))
    if np.shape(out[1]) == (n, n) and n != d:
        raise _StudentError(
            f"your covariance has shape ({n}, {n}): that is the covariance between samples. With one "
            "sample per row use np.cov(x, rowvar=False) (or xc.T @ xc / (n - 1))"
        )
    return mu, _as_array(out[1], "covariance", (d, d))


def _moments_mistakes(x, ok):
    """The named mistakes of a covariance of the data ``x`` (n, d), as [(message, value), ...], given the right
    ones ``ok`` (normalised by "n - 1" and by "n"): no centring, standard deviations, variances only."""
    n = len(x)
    only_variances = (
        "you return only the variances (a diagonal matrix): the matched Gaussian keeps the correlations, the "
        "off-diagonal entries"
    )
    return [
        (
            "you did not subtract the mean: x.T @ x / n is the second moment E[x x^T] = Sigma + mu mu^T; centre "
            "the data first",
            x.T @ x / n,
        ),
        (
            "you did not subtract the mean: x.T @ x / (n - 1) is not a covariance; centre the data first",
            x.T @ x / (n - 1),
        ),
        (
            "your covariance holds standard deviations on its diagonal; the Gaussian is parametrised by variances",
            np.diag(np.sqrt(np.diag(ok["n - 1"]))),
        ),
        (only_variances, np.diag(np.diag(ok["n - 1"]))),
        (only_variances, np.diag(np.diag(ok["n"]))),
    ]


def _moments_case(fn, rep, x, norms):
    """One case of :func:`check_matched_gaussian` on the data ``x``; adds the normalisation used to ``norms``."""
    n, d = x.shape
    mu, cov = _moments_of(_call(fn, "function", x.copy()), n, d)
    mu_ref = x.mean(axis=0)
    if not np.allclose(mu, mu_ref, rtol=1e-9, atol=1e-12):
        rep.fail(f"the mean is wrong (largest error {np.max(np.abs(mu - mu_ref)):.3g})")
        return False
    xc = x - mu_ref
    ok = {"n - 1": xc.T @ xc / (n - 1), "n": xc.T @ xc / n}
    hit = [k for k, c in ok.items() if np.allclose(cov, c, rtol=1e-9, atol=1e-12)]
    if hit:
        norms.add(hit[0])
        return True
    rep.fail(f"the covariance is wrong for n = {n}, d = {d} (largest error {np.max(np.abs(cov - ok['n - 1'])):.3g})")
    _named(rep, cov, _moments_mistakes(x, ok))
    return False


@_guarded("matched Gaussian (ch. 2)")
def check_matched_gaussian(fn, *, verbose=True) -> Verdict:
    """ex-ch2-moments: your moments of the Gaussian matched to a data set (Sec. 2: mean μ and covariance Σ).

    ``fn(x)`` gets data ``x`` of shape (n, d) (one sample per row) and must return ``(mean, cov)`` of shapes (d,)
    and (d, d): the sample mean and the sample covariance (normalised by n - 1 or by n; both pass, a note says
    which). Compared with numpy's ``mean`` and ``cov`` (relative tolerance 1e-9) on data whose mean is far from
    0 and with n > d and n < d. Named mistakes: an uncentred second moment, the (n, n) covariance of the rows,
    the mean over the wrong axis, standard deviations instead of variances.
    """
    _check_callable(fn, "fn")
    rep = _Report("matched Gaussian (ch. 2)")
    rng = np.random.default_rng(21)
    norms = set()
    for n, d in ((400, 6), (5, 9)):
        A = rng.normal(size=(d, d)) / np.sqrt(d)
        x = rng.normal(size=(n, d)) @ A.T + rng.uniform(1.0, 3.0, d)
        if not _moments_case(fn, rep, x, norms):
            return rep.done(verbose)
    rep.note(f"normalised by {' and '.join(sorted(norms))}: both are fine here (n is large in the book)")
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 4: the generated variance at initialisation (Prop. 4.2 at tau = 0)
# ------------------------------------------------------------------------------------------------------------------


def _init_variance_mistakes(q, s0, sT):
    """The named mistakes of the generated variance at initialisation for ``sigma_min = s0``, ``sigma_max = sT``,
    as [(message, value), ...]: exponent 2q, the factor 2 missing, σ_max² missing, the q = 0 value for every q."""
    r = s0 / sT
    return [
        (
            "your exponent is 2q: a weight q keeps the fraction q of x, so the ODE removes (1 - q); "
            "the variance is sigma_max^2 (sigma_min/sigma_max)^(2(1 - q))",
            sT**2 * r ** (2 * q),
        ),
        (
            "the factor 2 in the exponent is missing: the ODE scales the standard deviation by "
            "(sigma_min/sigma_max)^(1 - q), the variance by its square",
            sT**2 * r ** (1 - q),
        ),
        ("the factor sigma_max^2 is missing: the sampler starts from N(0, sigma_max^2)", r ** (2 * (1 - q))),
        (
            "you give the variance at q = 0 for every q: the contraction depends on the initial weight",
            np.full(q.shape, s0**2),
        ),
    ]


def _init_variance_case(fn, rep, q, s0, sT):
    """One case of :func:`check_generated_variance_at_init`: is ``fn`` right for (σ_min, σ_max) = (s0, sT)?"""
    ref = theory.generated_variance_at_init(q, sigma_min=s0, sigma_max=sT)
    got = _as_array(_call(fn, "function", q.copy(), sigma_min=s0, sigma_max=sT), "function", q.shape)
    if np.allclose(got, ref, rtol=1e-9, atol=0):
        return True
    i = int(np.argmax(np.abs(got / ref - 1)))
    rep.fail(f"with sigma_min={s0}, sigma_max={sT}: for q={q[i]:.3g} you give {got[i]:.6g}, expected {ref[i]:.6g}")
    named = _named(rep, got, _init_variance_mistakes(q, s0, sT), rtol=1e-9, atol=0)
    one = int(np.argmin(np.abs(q - 1.0)))
    if not named and not np.isclose(got[one], sT**2, rtol=1e-9):
        rep.fail(
            "sanity check: with q = 1 the denoiser returns its input, the ODE does not move, and the "
            "variance stays sigma_max^2"
        )
    return False


@_guarded("generated variance at initialisation (ch. 4)")
def check_generated_variance_at_init(fn, *, verbose=True) -> Verdict:
    """ex-ch4-init: your generated variance of an untrained one-layer denoiser, Prop. 4.2 at τ = 0.

    With the constant weight w = Q at every noise level the PF-ODE contracts every mode alike:
    λ̂(0) = σ_max² (σ_min/σ_max)^{2(1-Q)}. ``fn(q, sigma_min=..., sigma_max=...)`` (``q`` an array) is compared
    with :func:`spectral_bias.theory.generated_variance_at_init` (itself tested against quadrature of
    Lemma 4.1 in the package tests) for q in [-0.5, 1.5] and three (σ_min, σ_max) pairs; relative tolerance 1e-9.
    Named mistakes: exponent 2Q instead of 2(1 - Q), a missing factor 2 in the exponent, a missing σ_max².
    """
    _check_callable(fn, "fn")
    rep = _Report("generated variance at initialisation (ch. 4)")
    q = np.linspace(-0.5, 1.5, 21)
    cases = ((SIGMA_MIN, SIGMA_MAX), (0.01, 5.0), (1e-3, 200.0))
    if all(_init_variance_case(fn, rep, q, s0, sT) for s0, sT in cases):
        rep.note("compared for 21 initial weights q in [-0.5, 1.5] and three (sigma_min, sigma_max) pairs")
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 5: the emergence exponent from trajectories
# ------------------------------------------------------------------------------------------------------------------


def _exponent_problem(alpha_true=0.8):
    """Trajectories with known crossings: ln v_k(t) = ln λ_k + (ln s_k - ln λ_k) 2^{-t/τ_k}, so v_k passes the
    geometric mean sqrt(v_k(0) λ_k) exactly at t = τ_k = 0.5 λ_k^{-α}. As for an untrained denoiser, most modes
    start from one common variance (1e-4, below their targets); three start above their target and fall, and one
    mode (λ = 1e-6) never crosses on the grid."""
    rng = np.random.default_rng(31)
    lam = np.concatenate([np.logspace(1, -3, 12), [1e-6]])
    start = np.full(lam.size, 1e-4)
    start[[1, 5, 9]] = lam[[1, 5, 9]] * 10.0 ** rng.uniform(0.6, 1.5, 3)  # three falling modes
    tau = 0.5 * lam ** (-alpha_true)
    times = np.logspace(-3, 4, 561)
    frac = 2.0 ** (-times[None, :] / tau[:, None])
    traj = np.exp(np.log(lam)[:, None] + (np.log(start) - np.log(lam))[:, None] * frac)
    return times, traj, lam


def _first_passages(times, traj, thresholds, *, both_ways):
    """First time each trajectory (a row of ``traj``) reaches its threshold: upwards only, or (``both_ways``)
    downwards for a trajectory that starts at or above it; NaN when it never does."""
    out = []
    for v, thr in zip(traj, thresholds):
        past = v <= thr if both_ways and not v[0] < thr else v >= thr
        out.append(times[np.argmax(past)] if past.any() else np.nan)
    return np.array(out)


def _exponent_mistakes(times, traj, lam, alpha):
    """The named mistakes of an exponent measured from the trajectories of :func:`_exponent_problem` (reference
    ``alpha``), as [(message, value), ...]: the sign, the inverted regression, mixed log bases, falling modes
    tested upwards, the arithmetic-mean threshold."""

    def fit(ts):
        keep = np.isfinite(ts)
        return -np.polyfit(np.log(lam[keep]), np.log(ts[keep]), 1)[0]

    mixed_bases = "your logs have different bases (log10 on one axis, ln on the other): use the same log for both"
    return [
        (
            "the sign is flipped: tau* falls with lam, tau* ~ lam^(-alpha), so alpha = -slope of log tau* against "
            "log lam (a positive number here)",
            -alpha,
        ),
        (
            "you regressed log lam on log tau* and inverted nothing: that slope is -1/alpha; fit log tau* on log lam",
            -1.0 / alpha,
        ),
        ("you regressed log lam on log tau*: that slope estimates 1/alpha; fit log tau* against log lam", 1.0 / alpha),
        (mixed_bases, alpha * math.log(10)),
        (mixed_bases, alpha / math.log(10)),
        (
            "three modes start above their target and fall: test values <= threshold for those, not >=",
            fit(_first_passages(times, traj, np.sqrt(traj[:, 0] * lam), both_ways=False)),
        ),
        (
            "your threshold is the arithmetic mean; the book's criterion is the geometric mean sqrt(values[0] lam)",
            fit(_first_passages(times, traj, 0.5 * (traj[:, 0] + lam), both_ways=True)),
        ),
    ]


@_guarded("emergence exponent (ch. 5)")
def check_emergence_exponent(fn, *, verbose=True) -> Verdict:
    """ex-ch5-exponent: your exponent α of the inverse-variance law τ* ∝ λ^{-α}, measured from trajectories.

    ``fn(times, trajectories, lam)`` gets a log-spaced grid ``times`` (T,), generated variances ``trajectories``
    (n, T) of n modes and their targets ``lam`` (n,); it must find each mode's first-passage time through
    sqrt(values[0] λ) (upwards or downwards; NaN when it never crosses), drop the modes that never cross and fit
    log τ* = c - α log λ by least squares, returning α. The trajectories are built with crossings at exactly
    τ_k = 0.5 λ_k^{-0.8}; the reference answer is :func:`spectral_bias.theory.emergence_time` followed by
    :func:`spectral_bias.theory.fit_power_law` on the same grid (α = 0.80 to grid resolution). Tolerance 0.02
    (grid spacing 0.0125 decades; interpolated crossings pass too). Named mistakes: the sign, regressing log λ on
    log τ* (1/α), mixed log bases (α·ln 10), keeping the never-crossing mode (NaN), falling modes tested upwards,
    the arithmetic-mean threshold.
    """
    _check_callable(fn, "fn")
    rep = _Report("emergence exponent (ch. 5)")
    times, traj, lam = _exponent_problem()
    res = theory.emergence_time(times, traj, lam)
    alpha = theory.fit_power_law(lam, res.tau_star, n_boot=10).alpha
    got = _as_number(_call(fn, "function", times.copy(), traj.copy(), lam.copy()), "exponent", finite=False)
    if math.isnan(got):
        raise _StudentError(
            "your exponent is NaN: one mode (lam = 1e-6) never crosses its threshold; drop the NaN "
            "crossing times before fitting (np.isfinite)"
        )
    if math.isinf(got):
        raise _StudentError("your exponent is infinite: look for a division by zero in the fit")
    if abs(got - alpha) <= 0.02:
        rep.note(f"your alpha = {got:.4f}, reference {alpha:.4f} (tolerance 0.02)")
        return rep.done(verbose)
    rep.fail(f"your alpha = {got:.4g}; the trajectories give {alpha:.4f}")
    _named(rep, got, _exponent_mistakes(times, traj, lam, alpha), rtol=0.0, atol=0.02)
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 7: the patch covariance
# ------------------------------------------------------------------------------------------------------------------


def _patch_data():
    """30 zero-mean 6×7 images: white noise smoothed by a circular 3×3 filter, with a pixel-dependent scale (so the
    data are not stationary and averaging over positions matters)."""
    rng = np.random.default_rng(41)
    z = rng.normal(size=(30, 6, 7))
    x = z + 0.6 * np.roll(z, 1, axis=1) + 0.3 * np.roll(z, -1, axis=2) + 0.2 * np.roll(z, (1, 1), axis=(1, 2))
    return x * (1.0 + 0.5 * np.sin(np.arange(7))[None, None, :]) + 0.3 * rng.normal(size=(1, 6, 7))


def _patch_mistakes(x, ref, P):
    """The named mistakes of a P×P patch covariance of the images ``x`` (reference ``ref``), as
    [(message, value), ...]: valid patches only, column-major order, a subtracted mean, sums instead of means,
    division by n - 1."""
    n, H, W = x.shape
    order = np.arange(P * P).reshape(P, P).T.ravel()  # column-major order of the offsets
    win = np.lib.stride_tricks.sliding_window_view(x, (P, P), axis=(1, 2)).reshape(-1, P * P)
    xc = x - x.mean(axis=0)
    ref_c = theory.patch_covariance(theory.fourier_variances_from_samples(xc, center=False), P)
    return [
        (
            "you use only the patches that fit inside the image; Sigma_patch averages over every position, "
            "wrapping around the edges (np.roll or index modulo H, W)",
            win.T @ win / win.shape[0],
        ),
        (
            "the entries are right but in the wrong order: flatten each patch row by row (offsets as in "
            "theory.patch_offsets), not column by column",
            ref[np.ix_(order, order)],
        ),
        ("you subtracted the mean: the theory uses the second moment of the data as given (zero-mean data)", ref_c),
        (f"you summed over the {H * W} positions instead of averaging over them", ref * H * W),
        ("you summed over images and positions instead of averaging", ref * n * H * W),
        ("you divided by n - 1 instead of n", ref * n / (n - 1)),
    ]


def _patch_case(fn, rep, x, P):
    """One case of :func:`check_patch_covariance`: is ``fn`` right for the patch size ``P``?"""
    ref = theory.patch_covariance(theory.fourier_variances_from_samples(x, center=False), P)
    got = _as_array(_call(fn, "function", x.copy(), P), "function", (P * P, P * P))
    if np.allclose(got, ref, rtol=1e-8, atol=1e-10):
        return True
    rep.fail(
        f"for patch = {P} your matrix differs from Sigma_patch (largest error "
        f"{np.max(np.abs(got - ref)):.3g}, largest entry {np.max(np.abs(ref)):.3g})"
    )
    _named(rep, got, _patch_mistakes(x, ref, P), rtol=1e-8, atol=1e-10)
    if P > 1 and np.allclose(np.diag(got), np.diag(ref), rtol=1e-8):
        rep.fail(
            "the diagonal is right, the off-diagonal entries are not: entry (a, b) is the average of "
            "x[i + o_a] x[i + o_b] over positions i, with the offsets o in row-major order"
        )
    return False


@_guarded("patch covariance (ch. 7)")
def check_patch_covariance(fn, *, verbose=True) -> Verdict:
    """ex-ch7-patch-cov: your patch covariance Σ_patch, the second moment of circular P×P patches (Prop. 5.4).

    ``fn(x, patch)`` gets images ``x`` (n, H, W) and an odd ``patch`` size P and must return the (P², P²) matrix
    (1/(n H W)) Σ_images Σ_positions p pᵀ, where p is the P×P patch centred at a pixel, wrapping around the
    edges (circular), flattened row by row (offsets in the order of :func:`spectral_bias.theory.patch_offsets`).
    The data are used as given (no mean subtracted). The reference is the Fourier route of Prop. 5.4,
    :func:`spectral_bias.theory.patch_covariance` of the periodogram ``fourier_variances_from_samples(x,
    center=False)``, an independent computation; relative tolerance 1e-8. Named mistakes: valid (non-wrapping)
    patches only, column-major flattening, a subtracted mean, a sum instead of an average over positions.
    """
    _check_callable(fn, "fn")
    rep = _Report("patch covariance (ch. 7)")
    x = _patch_data()
    n, H, W = x.shape
    if all(_patch_case(fn, rep, x, P) for P in (3, 5, 1)):
        rep.note(f"compared for patch sizes 5, 3 and 1 on {n} non-stationary {H}x{W} images")
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 8: EDM preconditioning as an initial weight
# ------------------------------------------------------------------------------------------------------------------


def _initial_weight_mistakes(sigma, sd):
    """The named mistakes of the preconditioned initial weight for σ_d = ``sd``, as [(message, value), ...]:
    1 - c_skip, c_out, c_in, the squares missing, the plain start 0."""
    c_skip, c_out, c_in = theory.edm_preconditioning(sigma, sigma_data=sd)
    only_skip = "with the inner network at zero only the skip connection c_skip x is left"
    return [
        (
            "you return 1 - c_skip = sigma^2/(sigma^2 + sigma_d^2): the skip connection keeps the input at LOW "
            "noise (Q -> 1 as sigma -> 0)",
            1.0 - c_skip,
        ),
        (f"you return c_out = sigma sigma_d / sqrt(sigma^2 + sigma_d^2): {only_skip}", c_out),
        (f"you return c_in = 1/sqrt(sigma^2 + sigma_d^2): {only_skip}", c_in),
        ("the squares are missing: c_skip = sigma_d^2 / (sigma^2 + sigma_d^2)", sd / (sigma + sd)),
        (
            "you return 0, the plain one-layer start: with preconditioning the denoiser at V = 0 is c_skip x, not 0",
            np.zeros_like(sigma),
        ),
    ]


def _initial_weight_case(fn, rep, sigma, sd):
    """One case of :func:`check_preconditioned_initial_weight`: is ``fn`` right for σ_d = ``sd``?"""
    c_skip = theory.edm_preconditioning(sigma, sigma_data=sd)[0]
    got = _as_array(_call(fn, "function", sigma.copy(), sigma_data=sd), "function", sigma.shape)
    if np.allclose(got, c_skip, rtol=1e-9, atol=0):
        return True
    i = int(np.argmax(np.abs(got - c_skip)))
    rep.fail(f"with sigma_data = {sd}: at sigma = {sigma[i]:.3g} you give {got[i]:.6g}, expected {c_skip[i]:.6g}")
    _named(rep, got, _initial_weight_mistakes(sigma, sd), rtol=1e-9, atol=1e-15)
    return False


@_guarded("preconditioned initial weight (ch. 8)")
def check_preconditioned_initial_weight(fn, *, verbose=True) -> Verdict:
    """ex-ch8-init: your initial weight Q(σ) = c_skip(σ) = σ_d²/(σ² + σ_d²) of an EDM-preconditioned linear
    denoiser whose inner network starts at zero (eq. edm-eff).

    ``fn(sigma, sigma_data=...)`` (``sigma`` an array) is compared with the c_skip of
    :func:`spectral_bias.theory.edm_preconditioning` (tested in the package against the minimiser of the training
    target's variance) for σ in [1e-3, 1e3] and σ_d in {0.5, 1, 0.2}; relative tolerance 1e-9. Named mistakes:
    1 - c_skip, c_out or c_in in its place, a missing square, Q = 0.
    """
    _check_callable(fn, "fn")
    rep = _Report("preconditioned initial weight (ch. 8)")
    sigma = np.logspace(-3, 3, 37)
    if all(_initial_weight_case(fn, rep, sigma, sd) for sd in (0.5, 1.0, 0.2)):
        rep.note("compared for 37 noise levels in [1e-3, 1e3] and sigma_data in (0.5, 1.0, 0.2)")
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 9: the alignment score
# ------------------------------------------------------------------------------------------------------------------


def _diagonal_share(M):
    """χ of a rotated covariance ``M``: the share of its squared entries on the diagonal (eq. gen-measures)."""
    return np.sum(np.diag(M) ** 2) / np.sum(M**2)


def _alignment_mistakes(x, U, C, ref):
    """The named mistakes of an alignment score of the samples ``x`` (covariance ``C``, eigenvectors ``U``,
    reference ``ref``), as [(message, value), ...]: no centring, no rotation, U transposed, no squares, a root."""
    n = len(x)
    M = U.T @ C @ U
    return [
        (
            "you did not centre the samples: chi uses the covariance, which subtracts the samples' mean",
            _diagonal_share(U.T @ (x.T @ x / n) @ U),
        ),
        (
            "you used the diagonal of the covariance in pixel space; rotate it first: M = U.T @ cov @ U",
            _diagonal_share(C),
        ),
        (
            "U holds the eigenvectors in its COLUMNS: rotate with U.T @ cov @ U, not U @ cov @ U.T",
            _diagonal_share(U @ C @ U.T),
        ),
        (
            "the squares are missing: chi = sum of squared diagonal entries / sum of all squared entries",
            np.sum(np.abs(np.diag(M))) / np.sum(np.abs(M)),
        ),
        ("you took a square root: chi is the ratio of squared norms, not of norms", math.sqrt(ref)),
    ]


def _alignment_case(fn, rep, rng, U, name, n, cov):
    """One case of :func:`check_alignment_score`: ``n`` samples drawn from N(m, ``cov``)."""
    d = U.shape[0]
    x = rng.multivariate_normal(np.linspace(1, 3, d), cov, size=n)
    C = np.cov(x, rowvar=False)
    ref = float(_diagonal_share(U.T @ C @ U))
    got = _as_number(_call(fn, "function", x.copy(), U.copy()), "alignment score")
    if abs(got - ref) <= 1e-6 * ref:
        return True
    rep.fail(f"for the {name} case (n = {n}, d = {d}) your chi = {got:.6g}, expected {ref:.6g}")
    if not 0 < got <= 1 + 1e-12:
        rep.fail("chi must lie in (0, 1]: it is the share of the squared covariance that sits on the diagonal")
    _named(rep, np.array(got), _alignment_mistakes(x, U, C, ref), rtol=1e-6, atol=0)
    return False


@_guarded("alignment score (ch. 9)")
def check_alignment_score(fn, *, verbose=True) -> Verdict:
    """ex-ch9-chi-check: your alignment score χ = Σ_k [(Uᵀ Σ̂ U)_kk]² / ||Σ̂||_F² (eq. gen-measures).

    ``fn(samples, U)`` gets samples (n, d) (one per row) and the data eigenvectors ``U`` (d, d) (one per column)
    and returns χ, Σ̂ the sample covariance of the samples (centred on their own mean). The reference is the
    rotated covariance computed directly here; the package's streaming ``measure_samples`` (Gram-matrix route) is
    tested against the same brute force (they agree to ~1e-7). Tolerance: relative 1e-6. Three cases: an aligned
    covariance (χ = 1 up to sampling noise), a random one, and samples with n < d. Named mistakes: no centring,
    the pixel-basis diagonal (U ignored), U transposed, no squares, a square root of the ratio.
    """
    _check_callable(fn, "fn")
    rep = _Report("alignment score (ch. 9)")
    rng = np.random.default_rng(51)
    d = 8
    U = np.linalg.qr(rng.normal(size=(d, d)))[0]
    cases = (
        ("aligned", 4000, U @ np.diag(np.logspace(0, -2, d)) @ U.T),
        ("random", 300, (lambda A: A @ A.T / d)(rng.normal(size=(d, d)))),
        ("n < d", 6, np.eye(d)),
    )
    if all(_alignment_case(fn, rep, rng, U, name, n, cov) for name, n, cov in cases):
        rep.note("compared on an aligned, a random and an n < d sample covariance")
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 10: the EDM-preconditioned linear null model
# ------------------------------------------------------------------------------------------------------------------


def _preconditioned_weight_mistakes(lam, sigma, tau, eta):
    """The named mistakes of the preconditioned linear weight, as [(message, value), ...]: the plain one-layer
    weight, the plain rate from c_skip, η_eff without the density p(σ), η_eff without 1/(σ² + σ_d²)."""
    K = lam / (lam + sigma**2)
    c_skip = theory.edm_preconditioning(sigma)[0]
    dens = theory.edm_noise_density(sigma)

    def w(q, rate):
        return K + (q - K) * np.exp(-2.0 * rate * (lam + sigma**2) * tau)

    return [
        (
            "this is the plain one-layer weight (start 0, rate 2 eta (lam + sigma^2)): preconditioning starts the "
            "weight at c_skip(sigma) and weighting changes the learning rate to eta p(sigma)/(sigma^2 + sigma_d^2)",
            w(0.0, eta),
        ),
        (
            "the start c_skip is right but the rate is not: the EDM weighting and noise sampling turn eta into "
            "eta_eff = eta p(sigma)/(sigma^2 + sigma_d^2)",
            w(c_skip, eta),
        ),
        (
            "the density p(sigma) of ln sigma is missing from eta_eff: noise levels are sampled from "
            "ln sigma ~ N(-1.2, 1.2^2), so rare noise levels learn slowly",
            w(c_skip, eta / (sigma**2 + 0.25)),
        ),
        (
            "the factor 1/(sigma^2 + sigma_d^2) is missing from eta_eff (lambda(sigma) c_out^2 c_in^2 = "
            "1/(sigma^2 + sigma_d^2))",
            w(c_skip, eta * dens),
        ),
    ]


@_guarded("preconditioned linear weight (ch. 10)")
def check_preconditioned_weight(fn, *, verbose=True) -> Verdict:
    """ex-ch10-null: your per-mode weight of the EDM-preconditioned, EDM-weighted linear denoiser (the null model
    the networks of chapters 9–10 are compared with; Prop. edm-weighting of chapter 8):

        w = K + (c_skip(σ) - K) exp(-2 η_eff(σ) (λ + σ²) τ),
        K = λ/(λ + σ²),  η_eff = η p(σ)/(σ² + σ_d²),

    p the density of ln σ ~ N(-1.2, 1.2²), σ_d = 0.5. ``fn(lam, sigma, tau, eta=...)`` is compared with
    :func:`spectral_bias.theory.preconditioned_weight` (tested in the package against gradient flow on the inner
    matrix) on 200 random inputs; relative tolerance 1e-6. Named mistakes: the plain one-layer weight (start 0,
    rate 2η(λ + σ²)), the start c_skip with the plain rate, η_eff without the density p(σ), η_eff without the
    factor 1/(σ² + σ_d²).
    """
    _check_callable(fn, "fn")
    rep = _Report("preconditioned linear weight (ch. 10)")
    rng = np.random.default_rng(61)
    n = 200
    lam, sigma, _ = _random_modes(rng, n)
    tau = 10.0 ** rng.uniform(-1, 4, n)
    eta = 0.7
    ref = theory.preconditioned_weight(lam, sigma, tau, eta=eta)
    got = _as_array(_call(fn, "function", lam.copy(), sigma.copy(), tau.copy(), eta=eta), "function", lam.shape)
    tol = 1e-9 + 1e-6 * np.abs(ref)
    if np.all(np.abs(got - ref) <= tol):
        at0 = _as_array(_call(fn, "function", lam.copy(), sigma.copy(), 0.0 * tau, eta=eta), "function", lam.shape)
        if not np.allclose(at0, theory.edm_preconditioning(sigma)[0], rtol=1e-9, atol=1e-12):
            rep.fail("at tau = 0 your weight should be c_skip(sigma), but it is not")
        rep.note(f"compared on {n} random (lam, sigma, tau) and at tau = 0")
        return rep.done(verbose)
    i = int(np.argmax(np.abs(got - ref) / tol))
    rep.fail(
        f"wrong on {int(np.sum(np.abs(got - ref) > tol))} of {n} inputs; e.g. lam={lam[i]:.4g}, "
        f"sigma={sigma[i]:.4g}, tau={tau[i]:.4g}: you give {got[i]:.6g}, expected {ref[i]:.6g}"
    )
    _named(rep, got, _preconditioned_weight_mistakes(lam, sigma, tau, eta), rtol=1e-6, atol=1e-9)
    return rep.done(verbose)


# ------------------------------------------------------------------------------------------------------------------
# Chapter 12: one matrix shared by every noise level
# ------------------------------------------------------------------------------------------------------------------


def _lognormal_mean(f, p_mean=-1.2, p_std=1.2):
    """E[f(σ)] for ln σ ~ N(p_mean, p_std²), by adaptive quadrature (scipy.integrate.quad) in z = (ln σ - p_mean)/p_std.
    Independent of the Gauss–Hermite rule the package uses."""
    from scipy import integrate

    def integrand(z):
        return f(math.exp(p_mean + p_std * z)) * math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)

    return integrate.quad(integrand, -40.0, 40.0, epsabs=1e-14, epsrel=1e-12, limit=400)[0]  # |z| > 40: < 1e-300


def _shared_rate_mistakes(lam, eta, sd2, ref, a1):
    """The named mistakes of the shared-weight rate (reference ``ref`` = 2η(λ a1 + a2)), as [(message, value),
    ...]: the factor 2 missing, the σ² term missing, the per-σ rate at the median σ, no preconditioning factor."""
    s_med = math.exp(-1.2)
    m2 = _lognormal_mean(lambda s: s * s)
    return [
        (
            "the factor 2 is missing: the per-mode loss (w - 1)^2 lam + sigma^2 w^2 has gradient 2((lam + "
            "sigma^2) w - lam)",
            0.5 * ref,
        ),
        (
            "the sigma^2 term is missing: the noise part sigma^2 w^2 of the loss also pulls on the shared weight, so "
            "the rate tends to 2 eta E[sigma^2/(sigma^2 + sigma_d^2)] > 0 for lam -> 0",
            2.0 * eta * lam * a1,
        ),
        (
            "this is the per-sigma rate at one noise level (the median): a shared matrix feels the AVERAGE over "
            "sigma of (lam + sigma^2)/(sigma^2 + sigma_d^2)",
            2.0 * eta * (lam + s_med**2) / (s_med**2 + sd2),
        ),
        (
            "the preconditioning factor is missing: lambda(sigma) c_out c_in times c_out c_in is 1/(sigma^2 "
            "+ sigma_d^2)",
            2.0 * eta * (lam + m2),
        ),
    ]


@_guarded("shared-weight rate (ch. 12)")
def check_shared_weight_rate(fn, *, verbose=True) -> Verdict:
    """ex-ch12-rate: your per-mode convergence rate of an EDM-preconditioned linear denoiser whose inner matrix is
    ONE matrix shared by every noise level (eq. S of chapter 12 with one feature), trained from zero by gradient
    flow on the EDM loss with ln σ ~ N(-1.2, 1.2²), σ_d = 0.5:

        rate(λ) = η A(λ) = 2η E_σ[(λ + σ²)/(σ² + σ_d²)].

    ``fn(lam, eta=...)`` (``lam`` an array) is compared with this expectation computed here by adaptive quadrature
    (scipy.integrate.quad), independently of :func:`spectral_bias.theory.shared_weight_dynamics`, for 25 variances
    in [1e-4, 1e2]; relative tolerance 1e-6. Named mistakes: the factor 2 missing, the σ² term missing (rate
    proportional to λ), the per-σ rate 2η(λ + σ²)/(σ² + σ_d²) at the median noise level, a rate without the
    preconditioning factor 1/(σ² + σ_d²).
    """
    _check_callable(fn, "fn")
    rep = _Report("shared-weight rate (ch. 12)")
    sd2, eta = 0.25, 0.7
    lam = np.logspace(-4, 2, 25)
    a1 = _lognormal_mean(lambda s: 1.0 / (s * s + sd2))
    a2 = _lognormal_mean(lambda s: s * s / (s * s + sd2))
    ref = 2.0 * eta * (lam * a1 + a2)
    got = _as_array(_call(fn, "function", lam.copy(), eta=eta), "function", lam.shape)
    if np.allclose(got, ref, rtol=1e-6, atol=0.0):
        rep.note(f"compared for {lam.size} variances in [1e-4, 1e2] with eta = {eta}")
        return rep.done(verbose)
    i = int(np.argmax(np.abs(got / ref - 1.0)))
    rep.fail(f"at lam = {lam[i]:.3g} you give {got[i]:.6g}, expected {ref[i]:.6g}")
    _named(rep, got, _shared_rate_mistakes(lam, eta, sd2, ref, a1), rtol=1e-5, atol=1e-12)
    return rep.done(verbose)
