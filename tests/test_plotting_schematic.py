"""The introduction's schematic (plotting.theory_schematic): every drawn curve is the theory, checked here against
independent computations (the gain formula written out, quadrature of Lemma 4.1 for the generated variance)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from spectral_bias import theory
from spectral_bias.plotting import theory_schematic


@pytest.fixture(scope="module")
def fig():
    f = theory_schematic()
    yield f
    plt.close(f)


def test_four_panels_with_titles(fig):
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 4 and titles[0].startswith("1") and titles[3].startswith("4")


def test_panel_2_is_the_optimal_gain(fig):
    d = fig.schematic
    lines = fig.axes[1].get_lines()
    assert len(lines) == d["lam"].size
    for lam, line in zip(d["lam"], lines):
        s, g = line.get_data()
        np.testing.assert_allclose(g, lam / (lam + s**2), rtol=1e-12)


def test_panel_3_is_prop_4_2_by_quadrature(fig):
    d = fig.schematic
    idx = [0, 120, 250, 499]
    ref = theory.generated_variance_quadrature(
        theory.one_layer_weight, d["lam"][:, None], d["eta_tau"][idx][None, :], eta=1.0, q=0.1
    )
    np.testing.assert_allclose(d["gen_var"][:, idx], ref, rtol=1e-5)
    drawn = [ln.get_ydata() for ln in fig.axes[2].get_lines() if len(ln.get_xdata()) == d["eta_tau"].size]
    np.testing.assert_allclose(np.array(drawn), d["gen_var"])


def test_emergence_times_cross_the_threshold_and_follow_the_law(fig):
    d = fig.schematic
    lam, ts = d["lam"], d["tau_star"]
    start = theory.generated_variance_quadrature(theory.one_layer_weight, lam, 0.0, eta=1.0, q=0.1)
    end = 6400 * (lam + 0.002**2) / (lam + 6400)
    at = theory.generated_variance_quadrature(theory.one_layer_weight, lam, ts, eta=1.0, q=0.1)
    np.testing.assert_allclose(at, np.sqrt(start * end), rtol=1e-4)
    slope = np.polyfit(np.log(lam), np.log(ts), 1)[0]
    assert -1.2 < slope < -0.9  # the inverse-variance law, with its logarithmic correction


def test_panel_3_marks_each_emergence_on_its_threshold(fig):
    d = fig.schematic
    lam = d["lam"]
    marks = [ln for ln in fig.axes[2].get_lines() if ln.get_marker() == "o"]
    assert len(marks) == lam.size  # every default mode emerges
    x = np.array([ln.get_xdata()[0] for ln in marks])
    y = np.array([ln.get_ydata()[0] for ln in marks])
    np.testing.assert_array_equal(x, d["tau_star"])
    start = theory.generated_variance_quadrature(theory.one_layer_weight, lam, 0.0, eta=1.0, q=0.1)
    end = 6400 * (lam + 0.002**2) / (lam + 6400)
    np.testing.assert_allclose(y, np.sqrt(start * end), rtol=1e-4)


def test_snapshots_show_exactly_the_modes_that_have_emerged(fig):
    d = fig.schematic
    lam, ts = d["lam"], d["tau_star"]
    start = theory.generated_variance_at_init(0.1)
    thr = np.sqrt(start * theory.generated_variance_converged(lam))
    for t, spec in zip(d["snapshot_times"], d["snapshot_spectra"]):
        np.testing.assert_array_equal(spec >= thr, ts <= t)
    assert np.all(np.diff(d["snapshot_times"]) > 0)


def test_bad_spectra_are_refused():
    for bad in ([1.0], [1.0, -2.0], [1.0, np.nan]):
        with pytest.raises(ValueError, match="lam"):
            theory_schematic(bad)
