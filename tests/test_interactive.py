"""The kernel-free interactive figures: a slider over precomputed frames (static site) and its ipywidgets twin."""

import base64
import json
import re
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from spectral_bias.interactive import (
    InteractiveFigure,
    interactive_frames,
    interactive_widget,
    render_frames,
)
from spectral_bias.plotting import mode_colors

GOLDEN = Path(__file__).parent / "data" / "interactive_figure.html"

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


def test_widget_renders_each_frame_once_and_labels_the_value():
    draw, calls = make_drawer(), []

    def counted(v):
        calls.append(v)
        return draw(v)

    box = interactive_widget(counted, VALUES, label="q", initial=1, interval_ms=120, fmt="{:.1f}")
    play, slider, text = box.children[0].children
    assert calls == [0.5] and slider.value == play.value == 1 and text.value == "q = 0.5"
    assert (slider.min, slider.max, play.min, play.max, play.interval) == (0, 3, 0, 3, 120)
    slider.value = 2
    slider.value = 1
    slider.value = 2
    assert calls == [0.5, 1.0] and text.value == "q = 1.0"  # frames 1 and 2 rendered once each, then cached


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(label=""), TypeError, "label must be a non-empty string"),
        (dict(label="q", initial=4), ValueError, r"initial must be an index in \[0, 3\]"),
        (dict(label="q", initial=True), ValueError, "initial must be an index"),
        (dict(label="q", fmt=3), TypeError, "fmt must be a format string"),
    ],
)
def test_static_and_live_helpers_refuse_the_same_slider_arguments(kwargs, error, match):
    for helper in (interactive_frames, interactive_widget):
        with pytest.raises(error, match=match):
            helper(make_drawer(), VALUES, **kwargs)


def test_static_and_live_helpers_take_the_same_keywords():
    import inspect

    static = inspect.signature(interactive_frames).parameters
    live = inspect.signature(interactive_widget).parameters
    assert list(static) == list(live)
    box = interactive_widget(make_drawer(), VALUES, label="q", alt="a moving line", max_bytes=10)
    assert box.image.tooltip == "a moving line"


# --- the templates (package data) ----------------------------------------------------------------------------------


def test_templates_are_package_data():
    """The HTML, CSS and JavaScript ship inside the package (pyproject package-data) and are found there."""
    templates = resources.files("spectral_bias").joinpath("templates")
    for name in ("interactive.html", "interactive.css", "interactive.js"):
        assert templates.joinpath(name).is_file(), name
    toml = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^spectral_bias = \[.*"templates/\*"', toml, re.M), "templates/* missing from package-data"


def test_html_is_byte_identical_to_the_inline_template_version():
    """tests/data/interactive_figure.html was written by the implementation that kept the HTML, CSS and JavaScript
    as Python strings (before they became template files), for these inputs: the page must not change by a byte."""
    fig = InteractiveFigure(
        [b"\x89PNG fake0", b"\x89PNG fake1"],
        [1, 2],
        ["1", "2"],
        label="x<y",
        initial=0,
        interval_ms=350,
        alt="alt & text",
        width=123,
    )
    assert fig._repr_html_() == GOLDEN.read_text(encoding="utf-8")


def test_every_placeholder_is_filled_and_user_text_is_not_rescanned():
    fig = interactive_frames(make_drawer(), VALUES, label="{{alt}}", fmt="{{{}}}")
    html = fig._repr_html_()
    assert "{{alt}} = {0.0}" in html  # the label is shown as typed, not replaced by the image's alt text
    assert not re.search(r"\{\{(?!alt\}\})\w+\}\}", html)  # no other placeholder left
    assert html.count(fig.uid) == 2  # the root's data-sb-id and the script's selector


def test_a_placeholder_without_a_value_is_an_error():
    from spectral_bias.interactive import _fill

    assert _fill("a {{x}} b {{x}}", x="1") == "a 1 b 1"
    with pytest.raises(KeyError, match="y"):
        _fill("{{x}} {{y}}", x="1")
