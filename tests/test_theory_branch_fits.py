"""theory.fit_branches: branch-wise power-law fits, checked against exact synthetic power laws, an independent
least-squares fit (scipy.stats.linregress) and the per-branch calls of fit_power_law it replaces."""

import numpy as np
import pytest
from scipy.stats import linregress

from spectral_bias import theory
from spectral_bias.experiments import analysis

KEYS = {"alpha", "slope", "intercept", "r2", "n", "ci_slope", "ci_alpha"}


def _two_branch_law(alpha_inc=1.0, alpha_dec=0.5, a_inc=2.0, a_dec=30.0):
    lam = np.logspace(-3, 1, 24)
    direction = np.where(np.arange(lam.size) % 2 == 0, "increasing", "decreasing")
    tau = np.where(direction == "increasing", a_inc * lam**-alpha_inc, a_dec * lam**-alpha_dec)
    return lam, tau, direction


def test_exact_power_laws_recover_each_branch_exponent():
    lam, tau, direction = _two_branch_law(1.0, 0.5, 2.0, 30.0)
    fits = theory.fit_branches(lam, tau, direction, n_boot=50)
    assert set(fits) == {"increasing", "decreasing"}
    assert fits["increasing"]["alpha"] == pytest.approx(1.0, abs=1e-10)
    assert fits["decreasing"]["alpha"] == pytest.approx(0.5, abs=1e-10)
    assert fits["increasing"]["intercept"] == pytest.approx(np.log10(2.0), abs=1e-10)
    assert fits["decreasing"]["intercept"] == pytest.approx(np.log10(30.0), abs=1e-10)
    assert fits["increasing"]["n"] == fits["decreasing"]["n"] == 12
    assert fits["increasing"]["r2"] == pytest.approx(1.0)


def test_noisy_fit_matches_independent_least_squares_and_fit_power_law():
    lam, tau, direction = _two_branch_law(0.9, 0.4)
    tau = tau * np.exp(0.2 * np.random.default_rng(1).standard_normal(lam.size))
    fits = theory.fit_branches(lam, tau, direction, n_boot=300, seed=3)
    for branch in theory.BRANCHES:
        sel = direction == branch
        ref = linregress(np.log10(lam[sel]), np.log10(tau[sel]))
        got = fits[branch]
        assert set(got) == KEYS
        assert got["slope"] == pytest.approx(ref.slope, rel=1e-10)
        assert got["alpha"] == pytest.approx(-ref.slope, rel=1e-10)
        assert got["intercept"] == pytest.approx(ref.intercept, rel=1e-10)
        assert got["r2"] == pytest.approx(ref.rvalue**2, rel=1e-10)
        one = theory.fit_power_law(lam, np.where(sel, tau, np.nan), n_boot=300, seed=3)
        assert got["ci_slope"] == pytest.approx(list(one.ci))
        assert got["ci_alpha"] == pytest.approx([-one.ci[1], -one.ci[0]])
        assert got["ci_alpha"][0] < got["alpha"] < got["ci_alpha"][1]


def test_the_experiment_analysis_reports_these_fits():
    # experiments.analysis fits each branch through fit_branches: its reported fits are fit_branches on its own
    # emergence times, directions and exclusion rule (checked on synthetic trajectories with two branches)
    lam = np.geomspace(3.0, 0.01, 12)
    t = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 80)])
    start = np.where(np.arange(12) % 2 == 0, 1e-3, 30.0)  # half the modes rise, half fall
    traj = lam[None, :] + (start - lam)[None, :] * np.exp(-np.outer(t, lam))
    an = analysis.emergence_analysis(t, traj, lam, smooth=None, n_boot=100, seed=0, criteria=("geometric",))
    g = an["geometric"]
    ref = theory.fit_branches(
        lam, g["tau_star"], g["direction"], exclude="gray-zone", target=lam, initial=traj[0], n_boot=100, seed=0
    )
    assert g["fits"]["gray-zone"] == ref
    for branch in theory.BRANCHES:
        assert set(ref[branch]) == KEYS and ref[branch]["n"] >= 3 and ref[branch]["alpha"] > 0


def test_branch_with_too_few_modes_is_none_and_mask_excludes():
    lam, tau, direction = _two_branch_law()
    direction = direction.copy()
    direction[:] = "increasing"
    direction[[3, 7]] = "decreasing"
    fits = theory.fit_branches(lam, tau, direction, n_boot=20)
    assert fits["decreasing"] is None and fits["increasing"]["n"] == lam.size - 2
    mask = np.zeros(lam.size, bool)
    mask[:5] = True
    fits = theory.fit_branches(lam, tau, direction, exclude=mask, n_boot=20)
    assert fits["increasing"]["n"] == lam.size - 2 - 4  # modes 0, 1, 2, 4 dropped (3 is decreasing)
    assert theory.fit_branches(lam, tau, direction, min_modes=23, n_boot=20)["increasing"] is None


def test_nan_and_gray_zone_rule_pass_through():
    lam, tau, direction = _two_branch_law()
    tau = tau.copy()
    tau[0] = np.nan
    initial = np.full(lam.size, 0.05)  # gray zone: 0.025 <= lam <= 0.1
    fits = theory.fit_branches(lam, tau, direction, exclude="gray-zone", initial=initial, target=lam, n_boot=20)
    gray = theory.gray_zone_mask(initial, lam)
    assert gray.any()
    for branch in theory.BRANCHES:
        expect = np.sum((direction == branch) & ~gray & np.isfinite(tau))
        assert fits[branch]["n"] == expect


def test_reverse_regression_interval_maps_to_alpha():
    lam, tau, direction = _two_branch_law(0.8, 0.4)
    tau = tau * np.exp(0.1 * np.random.default_rng(0).standard_normal(lam.size))
    fits = theory.fit_branches(lam, tau, direction, regress="lam_on_tau", n_boot=200)
    for branch in theory.BRANCHES:
        sel = direction == branch
        ref = linregress(np.log10(tau[sel]), np.log10(lam[sel]))
        f = fits[branch]
        assert f["slope"] == pytest.approx(ref.slope)
        assert f["alpha"] == pytest.approx(-1 / ref.slope)
        assert f["ci_alpha"][0] < f["alpha"] < f["ci_alpha"][1]


@pytest.mark.parametrize(
    "kw, err",
    [
        (dict(lam=np.ones(3), tau_star=np.ones(4), direction=np.array(["increasing"] * 3)), ValueError),
        (dict(lam=-np.ones(3), tau_star=np.ones(3), direction=np.array(["increasing"] * 3)), ValueError),
        (
            dict(lam=np.ones(3), tau_star=np.ones(3), direction=np.array(["increasing"] * 3), exclude=np.ones(3)),
            ValueError,
        ),
        (dict(lam=np.ones(3), tau_star=np.ones(3), direction=np.array(["increasing"] * 3), min_modes=2), ValueError),
        (
            dict(lam=np.ones(3), tau_star=np.ones(3), direction=np.array(["increasing"] * 3), branches="increasing"),
            TypeError,
        ),
    ],
)
def test_bad_input_raises_naming_the_argument(kw, err):
    with pytest.raises(err):
        theory.fit_branches(**kw)


def test_bad_rule_is_not_hidden_as_none():
    lam, tau, direction = _two_branch_law()
    with pytest.raises(ValueError, match="exclude"):
        theory.fit_branches(lam, tau, direction, exclude="nonsense")
    with pytest.raises(ValueError, match="initial"):
        theory.fit_branches(lam, tau, direction, exclude="gray-zone", target=lam)


def _log_linear_crossings(lam, t_cross, initial=1.0, width=2.0):
    """Trajectories from ``initial`` to lam_k, piecewise linear in (ln t, ln value), halfway in ln value (the
    geometric threshold) exactly at t_cross[k]: emergence_time's interpolation is exact on them."""
    times = np.logspace(-6, 6, 1201)
    u = np.log(times)[None, :] - np.log(t_cross)[:, None]
    s = np.clip(0.5 + u / (2.0 * width), 0.0, 1.0)
    return times, np.exp(np.log(initial) + (np.log(lam) - np.log(initial))[:, None] * s)


def test_trajectory_exponents_recovers_a_known_power_law_on_each_branch():
    lam = np.logspace(-3, 3, 25)
    alpha = np.where(lam > 1.0, 1.0, 0.5)
    t_cross = np.where(lam > 1.0, 2.0, 30.0) * lam**-alpha
    times, traj = _log_linear_crossings(lam, t_cross)
    fits = theory.trajectory_exponents(times, traj, lam, n_boot=50)
    gray = (lam >= 0.5) & (lam <= 2.0)  # start 1: 0.5 <= 1/lam <= 2
    assert fits["increasing"]["alpha"] == pytest.approx(1.0, abs=1e-9)
    assert fits["decreasing"]["alpha"] == pytest.approx(0.5, abs=1e-9)
    assert fits["increasing"]["intercept"] == pytest.approx(np.log10(2.0), abs=1e-9)
    assert fits["decreasing"]["intercept"] == pytest.approx(np.log10(30.0), abs=1e-9)
    assert fits["increasing"]["n"] == np.sum((lam > 1.0) & ~gray)
    assert fits["decreasing"]["n"] == np.sum((lam < 1.0) & ~gray)
    every = theory.trajectory_exponents(times, traj, lam, exclude=None, n_boot=50)
    assert every["increasing"]["n"] + every["decreasing"]["n"] == lam.size  # lam = 1 is past its threshold at t_0


@pytest.mark.parametrize("q", [0.1, 0.6])
@pytest.mark.parametrize("criterion", ["geometric", "harmonic"])
def test_trajectory_exponents_equals_emergence_time_then_fit_branches(q, criterion):
    lam = np.logspace(-3, 2, 30)
    tau = np.logspace(-5, 6, 300)
    g = theory.one_layer_generated_variance(lam[:, None], tau, q=q)
    res = theory.emergence_time(tau, g, lam, initial=g[:, 0], criterion=criterion)
    by_hand = {
        "gray-zone": theory.fit_branches(
            lam, res.tau_star, res.direction, exclude="gray-zone", initial=g[:, 0], target=lam, n_boot=100
        ),
        "authors": theory.fit_branches(
            lam, res.tau_star, res.direction, exclude="authors", trajectories=g, target=lam, n_boot=100
        ),
        None: theory.fit_branches(lam, res.tau_star, res.direction, n_boot=100),
    }
    for exclude, expect in by_hand.items():
        got = theory.trajectory_exponents(tau, g, lam, criterion=criterion, exclude=exclude, n_boot=100)
        assert got == expect
    assert any(f is not None for f in by_hand["gray-zone"].values())
    start = theory.generated_variance_at_init(q)  # an exact start instead of the first recorded value
    res = theory.emergence_time(tau, g, lam, initial=start, criterion=criterion)
    mask = theory.gray_zone_mask(start, lam)
    expect = theory.fit_branches(lam, res.tau_star, res.direction, exclude=mask, regress="lam_on_tau")
    got = theory.trajectory_exponents(
        tau, g, lam, initial=start, criterion=criterion, exclude=mask, regress="lam_on_tau"
    )
    assert got == expect


def test_trajectory_exponents_bad_input_names_the_argument():
    times, traj = _log_linear_crossings(np.array([0.1, 1.0, 10.0]), np.ones(3))
    with pytest.raises(ValueError, match="lam"):
        theory.trajectory_exponents(times, traj, np.ones((3, 1)))
    with pytest.raises(ValueError, match="trajectories"):
        theory.trajectory_exponents(times, traj[0], np.ones(3))
    with pytest.raises(ValueError, match="exclude"):
        theory.trajectory_exponents(times, traj, np.ones(3), exclude="nonsense")
    with pytest.raises(ValueError, match="criterion"):
        theory.trajectory_exponents(times, traj, np.ones(3), criterion="mean")
