"""The book's figure helpers: rank colours, per-mode trajectories, result tables (the interactive figures: see
test_interactive.py)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from spectral_bias import interactive, plotting
from spectral_bias.plotting import mode_colors, use_style


def test_mode_colors_deterministic_and_ranked():
    use_style()
    c1, c2 = mode_colors(5), mode_colors(5)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(mode_colors(5, ranks=[3]), c1[3:4])
    assert not np.allclose(c1[0], c1[-1])


def test_interactive_names_stay_importable_from_plotting():
    for name in interactive.__all__:
        assert getattr(plotting, name) is getattr(interactive, name) and name in plotting.__all__


# --- per-mode trajectories and result tables -----------------------------------------------------------------------


def test_plot_mode_trajectories_draws_one_curve_and_one_target_per_mode():
    from spectral_bias.plotting import plot_mode_trajectories

    lam = np.array([0.1, 10.0, 1.0])  # deliberately not sorted: colours follow the variance rank
    times = np.logspace(-2, 2, 30)
    traj = lam[:, None] * (1 - np.exp(-times[None, :] * lam[:, None])) + 1e-3
    fig, ax = plt.subplots()
    lines = plot_mode_trajectories(ax, times, traj, lam)
    assert len(lines) == 3 and len(ax.get_lines()) == 6  # 3 curves + 3 dashed targets
    targets = [ln for ln in ax.get_lines() if ln not in lines]
    assert sorted(t.get_ydata()[0] for t in targets) == sorted(lam)
    expect = mode_colors(3)  # rank 0 = lam 10, rank 1 = lam 1, rank 2 = lam 0.1
    for line, rank in zip(lines, (2, 0, 1)):
        np.testing.assert_allclose(matplotlib.colors.to_rgba(line.get_color()), expect[rank])
        np.testing.assert_array_equal(line.get_ydata(), traj[list(lines).index(line)])
    assert [ln.get_label() for ln in lines] == ["$\\lambda$=0.1", "$\\lambda$=10", "$\\lambda$=1"]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    plt.close(fig)


def test_plot_mode_trajectories_options_and_bad_shapes():
    from spectral_bias.plotting import plot_mode_trajectories

    lam, times = np.array([1.0, 0.1]), np.linspace(0, 1, 5)
    fig, ax = plt.subplots()
    lines = plot_mode_trajectories(ax, times, np.ones((2, 5)), lam, targets=None, label=None, ylog=False, lw=0.5)
    assert len(ax.get_lines()) == 2 and lines[0].get_linewidth() == 0.5
    assert ax.get_yscale() == "linear" and not lines[0].get_label().startswith("$")
    new = plot_mode_trajectories(ax, times, np.ones((2, 5)), lam, targets=[0.5, 0.25])
    added = [ln for ln in ax.get_lines()[2:] if ln not in new]
    assert sorted(ln.get_ydata()[0] for ln in added) == [0.25, 0.5]
    with pytest.raises(ValueError, match="traj"):
        plot_mode_trajectories(ax, times, np.ones((5, 2)), lam)
    with pytest.raises(ValueError, match="lam"):
        plot_mode_trajectories(ax, times, np.ones((2, 5)), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="targets"):
        plot_mode_trajectories(ax, times, np.ones((2, 5)), lam, targets="optimum")
    plt.close(fig)


def test_table_html_has_one_row_per_entry_and_escapes(monkeypatch):
    import IPython.display

    from spectral_bias.plotting import show_table, table_html

    html = table_html(["a", "b<"], [[1, "x&y"], [2.5, None], ["–", 3]])
    assert html.count("<tr>") == 4 and html.count("<th>") == 2 and html.count("<td>") == 6
    assert "b&lt;" in html and "x&amp;y" in html and "<td>None</td>" in html
    with pytest.raises(ValueError, match="rows\\[1\\]"):
        table_html(["a", "b"], [[1, 2], [3]])
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    show_table(["a"], [[1], [2]])
    assert len(shown) == 1 and shown[0].data.count("<tr>") == 3
