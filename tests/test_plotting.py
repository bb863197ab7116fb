"""The book's figure helpers: rank colours and the kernel-free interactive figures."""

import base64
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from spectral_bias.plotting import (
    interactive_frames,
    interactive_widget,
    mode_colors,
    render_frames,
    use_style,
)

VALUES = [0.0, 0.5, 1.0, 1.5]


def make_drawer():
    """A persistent figure whose line moves with the value (the fast pattern the chapters use)."""
    fig, ax = plt.subplots(figsize=(2.0, 1.5))
    x = np.linspace(0, 1, 50)
    (line,) = ax.plot(x, 0 * x, color=mode_colors(4)[0])
    ax.set_ylim(-0.1, 2)

    def draw(v):
        line.set_ydata(v * x)
        return fig

    return draw


def parse(html):
    frames = json.loads(re.search(r'<script type="application/json" class="sb-frames">(.*?)</script>', html).group(1))
    labels = json.loads(re.search(r'<script type="application/json" class="sb-labels">(.*?)</script>', html).group(1))
    return frames, labels


def test_html_has_slider_player_image_and_all_frames():
    fig = interactive_frames(make_drawer(), VALUES, label="q", fmt="{:.1f}", initial=1)
    html = fig._repr_html_()
    assert html.startswith('<div class="sb-interactive"')
    assert re.search(r'<input type="range" class="sb-slider" min="0" max="3" step="1" value="1"', html)
    assert 'class="sb-play"' in html and '<img class="sb-frame" src="data:image/png;base64,' in html
    frames, labels = parse(html)
    assert len(frames) == len(VALUES) == len(fig)
    assert labels == ["q = 0.0", "q = 0.5", "q = 1.0", "q = 1.5"]
    # the image shown first is frame `initial`
    assert f'src="data:image/png;base64,{frames[1]}"' in html
    # every frame is a real PNG, and the frames differ from each other
    pngs = [base64.b64decode(f) for f in frames]
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    assert len(set(pngs)) == len(pngs)
    # self-contained: no network, no require.js
    assert "http" not in html.replace("http://www.w3.org", "") and "require(" not in html


def test_no_figures_left_open():
    before = len(plt.get_fignums())
    interactive_frames(make_drawer(), VALUES, label="q")
    figs = [plt.figure() for _ in VALUES]
    interactive_frames(figs, VALUES, label="q")
    assert len(plt.get_fignums()) == before


def test_helper_is_deterministic():
    a = interactive_frames(make_drawer(), VALUES, label="eta tau")._repr_html_()
    b = interactive_frames(make_drawer(), VALUES, label="eta tau")._repr_html_()
    assert a == b


def test_mode_colors_deterministic_and_ranked():
    use_style()
    c1, c2 = mode_colors(5), mode_colors(5)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(mode_colors(5, ranks=[3]), c1[3:4])
    assert not np.allclose(c1[0], c1[-1])


def test_two_figures_on_one_page_have_distinct_ids():
    a = interactive_frames(make_drawer(), VALUES, label="q")
    b = interactive_frames(make_drawer(), VALUES[::-1], label="q")
    assert a.uid != b.uid
    assert f'data-sb-id="{a.uid}"' in a._repr_html_() and f'"{a.uid}"' in a._repr_html_().split("<script>")[-1]


def test_size_limit_and_small_frames():
    fig = interactive_frames(make_drawer(), VALUES, label="q", dpi=72)
    assert fig.nbytes < 100_000  # a 2 x 1.5 inch frame at 72 dpi is a few kB
    with pytest.raises(ValueError, match="max_bytes"):
        interactive_frames(make_drawer(), VALUES, label="q", max_bytes=1000)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(frames=42), TypeError, "frames must be a callable"),
        (dict(values=[1.0]), ValueError, "at least 2"),
        (dict(values="abc"), TypeError, "values must be a sequence"),
        (dict(label=""), TypeError, "label must be"),
        (dict(initial=7), ValueError, "initial must be an index"),
        (dict(dpi=0), ValueError, "dpi must be"),
        (dict(interval_ms=0), ValueError, "interval_ms"),
        (dict(fmt=3), TypeError, "fmt must be"),
        (dict(frames=lambda v: "not a figure"), TypeError, "matplotlib Figure"),
        (dict(frames=[None]), ValueError, "equal length"),
    ],
)
def test_bad_input(kwargs, err, match):
    args = dict(frames=make_drawer(), values=VALUES, label="q")
    args.update(kwargs)
    with pytest.raises(err, match=match):
        interactive_frames(args.pop("frames"), args.pop("values"), **args)


def test_widget_updates_image_when_slider_moves():
    box = interactive_widget(make_drawer(), VALUES, label="q")
    first = box.image.value
    assert first == box.render(0)
    box.slider.value = 3
    assert box.image.value == box.render(3) != first
    # the same frames as the static helper at the same dpi (layout settled before the first frame in both)
    assert render_frames(make_drawer(), VALUES, dpi=80)[3] == box.render(3)


def test_widget_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        interactive_widget(make_drawer(), [1.0], label="q")


def test_static_and_live_helpers_take_the_same_keywords():
    import inspect

    static = inspect.signature(interactive_frames).parameters
    live = inspect.signature(interactive_widget).parameters
    assert list(static) == list(live)
    box = interactive_widget(make_drawer(), VALUES, label="q", alt="a moving line", max_bytes=10)
    assert box.image.tooltip == "a moving line"


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
