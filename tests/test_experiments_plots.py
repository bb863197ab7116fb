"""Figures and table helpers of a run (spectral_bias.experiments.plots), used by chapters 9-11."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from spectral_bias.experiments.analysis import emergence_analysis, linear_theory_analysis
from spectral_bias.experiments.plots import (
    NULL_MODELS,
    branch_fit,
    fit_label,
    fit_labels,
    plot_null_model,
)
from spectral_bias.plotting import mode_colors

LAM = np.logspace(1, -2, 10)


@pytest.fixture(scope="module")
def run_analysis():
    """An ``analyze_run``-shaped result built from the plain theory (the network) and both null models."""
    net = linear_theory_analysis(LAM, model="one-layer", n_times=60)
    base = {m: linear_theory_analysis(LAM, model=m, n_times=60) for m in ("edm-preconditioned", "one-layer")}
    return {"modes": net, "baselines": base, "results": {}, "summary": {}}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_null_model_draws_each_chosen_mode_over_its_data_variance_in_rank_colours():
    lam = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.1])
    modes = np.array([0, 1, 2, 3, 4])  # the last mode was not analysed
    times = np.array([0.0, 1.0, 10.0])
    gv = np.arange(15, dtype=float).reshape(3, 5) + 1.0
    fig, ax = plt.subplots()
    lines = plot_null_model(ax, {"times": times, "gen_var": gv}, lam, modes, every=2)
    assert len(lines) == 3  # columns 0, 2, 4
    for line, j in zip(lines, (0, 2, 4)):
        np.testing.assert_array_equal(line.get_xdata(), [0.5, 1.0, 10.0])  # t = 0 half a step left
        np.testing.assert_allclose(line.get_ydata(), gv[:, j] / lam[modes[j]])
    for line, c in zip(lines, mode_colors(lam.size, modes[::2])):
        assert to_rgba(line.get_color()) == pytest.approx(tuple(c))
    target = [ln for ln in ax.get_lines() if ln not in lines]
    assert len(target) == 1 and set(target[0].get_ydata()) == {1.0}
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    np.testing.assert_array_equal(times, [0.0, 1.0, 10.0])  # the caller's array is not modified


def test_plot_null_model_on_a_real_null_model_matches_its_variances(run_analysis):
    b = run_analysis["baselines"]["edm-preconditioned"]
    fig, ax = plt.subplots()
    lines = plot_null_model(ax, b, LAM, run_analysis["modes"]["modes"])
    assert len(lines) == LAM.size
    np.testing.assert_allclose(lines[3].get_ydata(), b["gen_var"][:, 3] / LAM[3])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(modes=[0, 1]), "gen_var"),
        (dict(every=0), "every"),
        (dict(every=1.5), "every"),
    ],
)
def test_plot_null_model_bad_input(kwargs, match):
    args = dict(baseline={"times": np.array([0.0, 1.0]), "gen_var": np.ones((2, 3))}, eigenvalues=LAM, modes=[0, 1, 2])
    args.update(kwargs)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=match):
        plot_null_model(ax, **args)


def test_branch_fit_picks_the_fit_of_the_network_or_a_null_model(run_analysis):
    net, base = run_analysis["modes"], run_analysis["baselines"]
    for crit in ("geometric", "harmonic"):
        for rule in net[crit]["fits"]:
            for b in ("increasing", "decreasing"):
                got = branch_fit(run_analysis, b, criterion=crit, rule=rule)
                assert got is net[crit]["fits"][rule][b]
                for m in base:
                    assert (
                        branch_fit(run_analysis, b, criterion=crit, rule=rule, model=m)
                        is (base[m][crit]["fits"][rule][b])
                    )
    # a single emergence analysis (e.g. patch modes) is read directly
    assert branch_fit(net, "increasing") is net["geometric"]["fits"]["gray-zone"]["increasing"]
    # the plain theory from Q = 0.1: every mode rises, with an exponent of order 1 (chapter 5)
    f = branch_fit(run_analysis)
    assert 0.8 < f["alpha"] < 1.3 and f["n"] == LAM.size
    assert branch_fit(run_analysis, "decreasing") is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(branch="rising"), "branch must be one of"),
        (dict(criterion="median"), "criterion 'median' was not analysed"),
        (dict(rule="none"), "rule must be one of"),
        (dict(model="two-layer"), "model must be None or one of"),
    ],
)
def test_branch_fit_bad_input(run_analysis, kwargs, match):
    with pytest.raises(ValueError, match=match):
        branch_fit(run_analysis, **kwargs)


def test_branch_fit_on_a_single_analysis_refuses_a_model():
    t = np.concatenate([[0.0], np.geomspace(1e-2, 1e3, 40)])
    gv = LAM * (1 - 0.9 * np.exp(-t[:, None] * LAM))
    a = emergence_analysis(t, gv, LAM, n_boot=20)
    with pytest.raises(ValueError, match="model must be None"):
        branch_fit(a, model="one-layer")


def test_fit_label_formats_a_fit_or_says_too_few_modes():
    f = {"alpha": 1.0234, "ci_alpha": (0.8912, 1.1449), "n": 52, "r2": 0.9}
    assert fit_label(f) == "α = 1.02 [0.89, 1.14] (N = 52)"
    assert fit_label(None) == "too few modes"


def test_fit_labels_lists_the_network_then_both_null_models(run_analysis):
    labels = fit_labels(run_analysis, "increasing", criterion="harmonic")
    assert labels == [
        fit_label(branch_fit(run_analysis, "increasing", criterion="harmonic", model=m)) for m in NULL_MODELS
    ]
    assert len(labels) == 3 and len(set(labels[1:])) == 2  # the two null models differ
    assert fit_labels(run_analysis, "decreasing", models=(None,)) == ["too few modes"]
