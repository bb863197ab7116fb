"""Closed forms at the extremes of their valid inputs, against independent quadrature, with every warning an error:
λ from 1e-300 to 1e300, ητ from 0 to 1e300, σ_min down to 1e-150 (Prop. 4.2; ε-prediction; flow matching), and
the regressions of the defects found there: λ·ητ overflow, ln(σ_max²/σ_min²) at extreme σ, optimal_weight(0, tiny σ),
n_grid validation, complex/boolean/string input. (A value outside float64 is refused with a named ValueError.)"""

import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit

import spectral_bias.theory as T

LAMS = [0.0, 1e-300, 1e-150, 1e-8, 1.0, 1e8, 1e150, 1e300]
AS = [0.0, 1e-300, 1e-8, 1.0, 1e8, 1e150, 1e300]  # a = 2ητ
SIGMA_MIN = [1e-150, 1e-20, 0.002]
QS = [0.0, 0.5, 1.0, 2.0, -1.0]


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _log_terms(lam, a, t):
    """ln(a(σ² + λ)) at σ = e^t, and 1 - w*(σ) = σ²/(λ + σ²), without overflow or 0/0."""
    ll = np.log(lam) if lam > 0 else -np.inf
    la = np.log(a) if a > 0 else -np.inf
    return la + np.logaddexp(2 * t, ll), (expit(2 * t - ll) if lam > 0 else 1.0)


def quad_log_gen_var(lam, a, q, s0, sT, eps=False):
    """Lemma 4.1 by adaptive quadrature, independent of the Ein closed form:
    ln λ̂ = ln σ_max² - 2 ∫ (1 - w(σ)) d ln σ, with 1 - w = (1 - w*)(1 - E) + (1 - Q(σ)) E, E = e^{-a(σ² + λ)};
    Q(σ) = q (one-layer) or 1 - σ q (ε-prediction, App. C.4 derived in objectives.py)."""
    t0, t1 = np.log(s0), np.log(sT)

    def f(t):
        lx, one_minus_wstar = _log_terms(lam, a, t)
        x = np.exp(min(lx, 700.0))
        E = np.exp(-x)
        one_minus_q = np.exp(t) * q if eps else 1.0 - q
        return one_minus_wstar * -np.expm1(-x) + one_minus_q * E

    pts = [
        p
        for p in (0.5 * np.log(lam) if lam > 0 else None, -0.5 * np.log(a) if a > 0 else None)
        if p is not None and t0 < p < t1
    ]
    # break the interval at the transitions and every 5 units of ln σ
    edges = np.unique(np.concatenate([[t0, t1], pts, np.arange(np.ceil(t0 / 5) * 5, t1, 5.0)]))
    total = sum(
        integrate.quad(f, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)[0] for lo, hi in zip(edges[:-1], edges[1:])
    )
    return 2 * t1 - 2 * total


@pytest.mark.parametrize("s0", SIGMA_MIN)
def test_prop42_on_the_extreme_grid_matches_quadrature(s0):
    sT = 80.0
    lam = np.array(LAMS)[:, None]
    a = np.array(AS)
    got = {q: T.one_layer_log_generated_variance(lam, a / 2, q=q, sigma_min=s0, sigma_max=sT) for q in QS}
    for q in QS:
        assert got[q].shape == (len(LAMS), len(AS)) and np.all(np.isfinite(got[q]))
        for i, l in enumerate(LAMS):
            for j, aj in enumerate(AS):
                ref = quad_log_gen_var(l, aj, q, s0, sT)
                assert abs(got[q][i, j] - ref) < 1e-9 * (1 + abs(ref)), (l, aj, q, s0, got[q][i, j], ref)
    # and the variance itself wherever it is a float64 (it is here: ln λ̂ in [2 ln σ_min, ln σ_max² + ...])
    v = T.one_layer_generated_variance(lam, a / 2, q=0.5, sigma_min=s0, sigma_max=sT)
    np.testing.assert_allclose(np.log(v), got[0.5], rtol=1e-13, atol=1e-15)


def test_prop42_with_extreme_sigma_range():
    # ln(σ_max²/σ_min²) from logs: σ_min = 1e-150 and σ_max = 1e150 (σ² still representable) and their limits
    for s0, sT in [(1e-150, 1e150), (1e-150, 1.0), (1e-20, 1e100)]:
        for l, a in [(1.0, 1.0), (1e-100, 1e120), (1e200, 1e-150), (1e-300, 0.0)]:
            got = T.one_layer_log_generated_variance(l, a / 2, q=0.3, sigma_min=s0, sigma_max=sT)
            ref = quad_log_gen_var(l, a, 0.3, s0, sT)
            assert abs(got - ref) < 1e-9 * (1 + abs(ref)), (s0, sT, l, a, got, ref)
    # τ = 0: exactly the contraction by the constant weight q
    got = T.one_layer_log_generated_variance(1.0, 0.0, q=0.25, sigma_min=1e-150, sigma_max=1e150)
    assert got == pytest.approx(2 * np.log(1e150) - 0.75 * 2 * (np.log(1e150) - np.log(1e-150)), rel=1e-14)


def test_issue_cases_overflow_of_lambda_times_tau():
    # λ·ητ = 1e308: fully converged, λ̂ = σ_max²(λ + σ_min²)/(λ + σ_max²)
    conv = T.generated_variance_converged(1e8)
    assert T.one_layer_generated_variance(1e8, 1e300) == pytest.approx(conv, rel=1e-13)
    assert T.eps_prediction_generated_variance(1e8, 1e300) == pytest.approx(conv, rel=1e-13)
    assert T.eps_prediction_generated_variance(1e300, 1e300) == pytest.approx(80.0**2, rel=1e-13)
    # ητ itself beyond float64: refused naming eta and tau
    with pytest.raises(ValueError, match="eta.*tau"):
        T.one_layer_generated_variance(1.0, 1e300, eta=1e10)
    # a result beyond float64 is refused, never inf
    with pytest.raises(ValueError, match="float64"):
        T.one_layer_generated_variance(1.0, 0.0, q=1e3)


@pytest.mark.parametrize("s0", [1e-150, 0.002])
def test_eps_prediction_on_the_extreme_grid_matches_quadrature(s0):
    for l in LAMS:
        for a in AS:
            got = np.log(T.eps_prediction_generated_variance(l, a / 2, q=0.1, sigma_min=s0, sigma_max=80.0))
            ref = quad_log_gen_var(l, a, 0.1, s0, 80.0, eps=True)
            assert abs(got - ref) < 1e-9 * (1 + abs(ref)), (l, a, got, ref)


def quad_flow_matching_log_gen_var(lam, a, q):
    """2 ∫_0^1 w(t) dt (App. H) by adaptive quadrature, independent of the Ei closed form: t ∈ [0, 1/2] in r = ln t
    and t ∈ [1/2, 1] in s = ln(1 - t), which resolves the boundary layers of width 1/√λ (t → 0, large λ) and √λ
    (t → 1, small λ)."""

    def w(t, u):
        g = t * t * lam + u * u
        fo = (t * lam - u) / g
        with np.errstate(over="ignore"):  # a·g beyond float64: the factor is e^{-inf} = 0
            return fo + (q - fo) * np.exp(-min(a * g, 700.0))

    def piece(f, layer):
        lo = min(layer, 0.0) - 40.0
        cuts = [layer] + ([-0.5 * np.log(a)] if a > 0 else [])
        edges = np.unique(
            np.concatenate(
                [
                    [lo, np.log(0.5)],
                    [c for c in cuts if lo < c < np.log(0.5)],
                    np.arange(np.ceil(lo / 5) * 5, np.log(0.5), 5.0),
                ]
            )
        )
        return sum(
            integrate.quad(f, x0, x1, epsabs=1e-14, epsrel=1e-13, limit=200)[0] for x0, x1 in zip(edges[:-1], edges[1:])
        )

    near0 = piece(lambda r: w(np.exp(r), -np.expm1(r)) * np.exp(r), -0.5 * np.log(lam))
    near1 = piece(lambda s_: w(-np.expm1(s_), np.exp(s_)) * np.exp(s_), 0.5 * np.log(lam))
    return 2 * (near0 + near1)


def test_flow_matching_on_the_extreme_grid_matches_quadrature():
    for l in [1e-300, 1e-150, 1e-8, 1.0, 1e8, 1e150, 1e300]:
        for a in AS:
            got = np.log(T.flow_matching_generated_variance(l, a / 2, q=0.1))
            ref = quad_flow_matching_log_gen_var(l, a, 0.1)
            assert abs(got - ref) < 1e-8 * (1 + abs(ref)), (l, a, got, ref)
    # limits: e^{2q} at τ = 0, λ once every t has converged
    assert T.flow_matching_generated_variance(1e-300, 0.0, q=0.1) == pytest.approx(np.exp(0.2), rel=1e-14)
    assert T.flow_matching_generated_variance(1e-100, 1e300) == pytest.approx(1e-100, rel=1e-12)


def test_optimal_weight_without_zero_over_zero():
    assert T.optimal_weight(0.0, 1e-200) == 0.0
    assert T.optimal_weight(1e-300, 1e-200) == 1.0  # 1 - 1e-100 rounds to 1
    assert T.optimal_weight(1.0, 1e200) == 0.0  # 1e-400 rounds to 0
    lam, sig = np.geomspace(1e-300, 1e300, 13)[:, None], np.geomspace(1e-150, 1e150, 11)
    w = T.optimal_weight(lam, sig)
    # reference with exact rational arithmetic (fractions): λ/(λ + σ²)
    from fractions import Fraction

    for i in range(0, 13, 3):
        for j in range(0, 11, 2):
            L, S = Fraction(float(lam[i, 0])), Fraction(float(sig[j]))
            ref = float(L / (L + S * S))
            assert w[i, j] == pytest.approx(ref, rel=1e-15, abs=1e-300)


@pytest.mark.parametrize(
    "n_grid,err",
    [
        (0, ValueError),
        (1, ValueError),
        (2.7, TypeError),
        (2.0, TypeError),
        (True, TypeError),
        ("100", TypeError),
        (None, TypeError),
    ],
)
def test_emergence_time_grid_size_is_validated(n_grid, err):
    with pytest.raises(err, match="n_grid"):
        T.one_layer_emergence_time(np.array([1.0, 0.1]), n_grid=n_grid)


@pytest.mark.parametrize(
    "value,kind",
    [
        (1.0 + 0j, "complex"),
        (np.array([1.0 + 1e-9j]), "complex"),
        (True, "bool"),
        (np.array([True, False]), "booleans"),
        ("1.0", "str"),
        (b"1", "bytes"),
        ([[1.0], [1.0, 2.0]], "ragged"),
    ],
)
def test_complex_boolean_string_and_ragged_inputs_are_refused(value, kind):
    for f, args in [
        (T.one_layer_generated_variance, (value, 1.0)),
        (T.optimal_weight, (1.0, value)),
        (T.flow_matching_generated_variance, (value, 1.0)),
        (T.deep_linear_generated_variance, (value, 1.0)),
    ]:
        kw = {"q": 0.1, "depth": 2} if f is T.deep_linear_generated_variance else {}
        name = "lam" if args[0] is value else "sigma"
        with pytest.raises((TypeError, ValueError), match=name):
            f(*args, **kw)


def test_tiny_lambda_in_deep_linear_is_finite_or_refused_by_name():
    # depth 2 (closed form) and the two-layer model are finite down to λ = 1e-300 and converge to the
    # σ_min² contraction of an empty mode; deeper models either agree or refuse naming lam
    conv = T.generated_variance_converged(1e-300)
    for f, kw in [(T.deep_linear_generated_variance, dict(depth=2)), (T.two_layer_generated_variance, {})]:
        v = f(1e-300, 1e300, q=0.1, **kw)
        assert v == pytest.approx(conv, rel=1e-12)
    for lam in (1e-150, 1e-300):
        try:
            v = T.deep_linear_generated_variance(lam, 1e300, q=0.1, depth=3)
        except ValueError as err:
            assert "lam=" in str(err)
        else:
            assert v == pytest.approx(conv, rel=1e-9)
