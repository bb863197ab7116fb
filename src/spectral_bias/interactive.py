"""Kernel-free interactive figures: a slider (and a play button) over precomputed frames.

One helper for the static site, :func:`interactive_frames` (PNG frames driven by inline JavaScript, no kernel, no
network), and its live-kernel twin, :func:`interactive_widget` (ipywidgets); both take the same ``frames`` and
``values``. Used by the "Explore the dynamics" page (``chapters/explore_dynamics.md``); the names are also
importable from :mod:`spectral_bias.plotting`.

The HTML, CSS and JavaScript are package data, ``spectral_bias/templates/interactive.{html,css,js}``, read with
:mod:`importlib.resources`. ``{{name}}`` marks a value filled in here. The HTML and CSS templates are written one
element (one rule) per line for reading; their lines are stripped and joined, so the page gets them on one line.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["InteractiveFigure", "interactive_frames", "interactive_widget", "render_frames"]

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@cache
def _template(name: str) -> str:
    """The text of ``templates/<name>``; the lines of .html and .css templates stripped and joined."""
    text = resources.files(__package__).joinpath("templates").joinpath(name).read_text(encoding="utf-8")
    if name.endswith((".html", ".css")):
        text = "".join(line.strip() for line in text.splitlines())
    return text


def _fill(template: str, **values: str) -> str:
    """Replace every ``{{name}}`` of ``template`` by ``values[name]`` in one pass (a value is never re-scanned, so
    user text containing braces stays as it is). Raises KeyError naming a placeholder without a value."""

    def value(m):
        if m.group(1) not in values:
            raise KeyError(f"template placeholder {{{{{m.group(1)}}}}} has no value")
        return values[m.group(1)]

    return _PLACEHOLDER.sub(value, template)


def _check_frames_args(frames, values, fmt):
    """Validate the common arguments of the interactive helpers; return the list of values and their labels."""
    if not callable(frames) and not isinstance(frames, (list, tuple)):
        raise TypeError(
            f"frames must be a callable value -> matplotlib Figure or a list of Figures, got {type(frames).__name__}"
        )
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"values must be a sequence of slider values, got {type(values).__name__}")
    values = list(values)
    if len(values) < 2:
        raise ValueError(f"values must hold at least 2 slider values, got {len(values)}")
    if isinstance(frames, (list, tuple)) and len(frames) != len(values):
        raise ValueError(f"frames (a list of {len(frames)} figures) and values ({len(values)}) must have equal length")
    if not isinstance(fmt, str) and not callable(fmt):
        raise TypeError(f"fmt must be a format string like '{{:.3g}}' or a callable, got {type(fmt).__name__}")
    labels = [fmt(v) if callable(fmt) else fmt.format(v) for v in values]
    return values, labels


def _check_slider_args(frames, values, fmt, label, initial):
    """Validate the arguments that :func:`interactive_frames` and :func:`interactive_widget` share (the slider's
    ``label`` and ``initial`` index, then those of :func:`_check_frames_args`); return the values and their
    labels."""
    if not isinstance(label, str) or not label:
        raise TypeError(f"label must be a non-empty string naming the slider variable, got {label!r}")
    values, labels = _check_frames_args(frames, values, fmt)
    if isinstance(initial, bool) or not isinstance(initial, (int, np.integer)) or not 0 <= initial < len(values):
        raise ValueError(f"initial must be an index in [0, {len(values) - 1}], got {initial!r}")
    return values, labels


def _figure_png(fig, dpi, colors: int = 96) -> bytes:
    """PNG bytes of a matplotlib Figure rendered at ``dpi`` by the Agg canvas, on white, reduced to a
    ``colors``-entry palette (3-4x smaller than RGBA, no visible change for line plots; 0 keeps full colour), with no
    metadata, so that equal figures give equal bytes."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    if not isinstance(fig, Figure):
        raise TypeError(f"each frame must be a matplotlib Figure, got {type(fig).__name__}")
    if fig.dpi != dpi:
        fig.set_dpi(dpi)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()  # one draw; savefig would draw twice and reset the dpi around it
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), bytes(canvas.buffer_rgba()), "raw", "RGBA", 0, 1)
    img = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    if colors:
        img = img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _settle_layout(fig, dpi) -> None:
    """Fix a new figure's layout before its first frame: render at the output dpi until the layout engine settles,
    then freeze it, so that every frame has the same axes positions (no jitter when the slider moves, and the
    same value always gives the same bytes)."""
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        return
    fig.set_dpi(dpi)
    if fig.get_layout_engine() is not None:
        for _ in range(3):
            fig.canvas.draw()
        fig.set_layout_engine("none")


def render_frames(frames, values, *, dpi: float = 80) -> list[bytes]:
    """Render every frame to PNG bytes.

    ``frames`` is a callable ``value -> matplotlib.figure.Figure`` (it may return a new figure each time, or update
    and return the same one: faster) or a list of Figures, one per value. Every figure involved is closed at the
    end. Returns a list of ``len(values)`` PNG byte strings. Raises TypeError/ValueError on bad input.
    """
    import matplotlib.pyplot as plt

    values, _ = _check_frames_args(frames, values, "{}")
    if not np.isfinite(dpi) or dpi <= 0:
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    figs, pngs = [], []
    try:
        for i, v in enumerate(values):
            fig = frames(v) if callable(frames) else frames[i]
            if not any(fig is f for f in figs):
                figs.append(fig)
                _settle_layout(fig, dpi)
            pngs.append(_figure_png(fig, dpi))
    finally:
        for f in figs:
            plt.close(f)
    return pngs


class InteractiveFigure:
    """A kernel-free slider/player over precomputed PNG frames (see :func:`interactive_frames`).

    Attributes: ``frames`` (list of PNG bytes), ``values``, ``labels`` (the text shown per frame), ``label``,
    ``initial`` (index shown first), ``uid`` (deterministic id: a hash of the frames and labels).
    Displaying it (``_repr_html_``) gives a self-contained ``<div class="sb-interactive">``.
    """

    def __init__(self, frames, values, labels, *, label, initial, interval_ms, alt, width):
        import hashlib

        self.frames, self.values, self.labels = list(frames), list(values), list(labels)
        self.label, self.initial, self.interval_ms, self.alt, self.width = label, initial, interval_ms, alt, width
        h = hashlib.sha256()
        for png, lab in zip(self.frames, self.labels):
            h.update(png)
            h.update(lab.encode())
        h.update(label.encode())
        self.uid = "sb-" + h.hexdigest()[:12]

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def nbytes(self) -> int:
        """Size of the HTML in bytes."""
        return len(self._repr_html_().encode())

    def _repr_html_(self) -> str:
        import base64
        import html
        import json

        b64 = [base64.b64encode(p).decode("ascii") for p in self.frames]
        i0 = self.initial
        esc = html.escape
        return _fill(
            _template("interactive.html"),
            uid=self.uid,
            initial=str(i0),
            nframes=str(len(self.frames)),
            last=str(len(self.frames) - 1),
            style=_fill(_template("interactive.css"), width=str(self.width)),
            label=esc(self.label),
            value=esc(self.labels[i0]),
            image=b64[i0],
            alt=esc(self.alt),
            frames_json=json.dumps(b64),
            # JSON inside <script> must not contain "</": escape it (labels are user text)
            labels_json=json.dumps([f"{self.label} = {lab}" for lab in self.labels]).replace("</", "<\\/"),
            script="\n" + _fill(_template("interactive.js"), uid=self.uid, interval=str(self.interval_ms)),
        )

    def __repr__(self) -> str:
        return f"InteractiveFigure({self.label!r}, {len(self)} frames, {self.nbytes / 1e3:.0f} kB)"


def interactive_frames(
    frames,
    values,
    *,
    label: str,
    fmt="{:.3g}",
    dpi: float = 80,
    initial: int = 0,
    interval_ms: int = 350,
    alt: str | None = None,
    max_bytes: int = 1_000_000,
) -> InteractiveFigure:
    """A figure with a slider (and play button) that works on the static HTML book: no kernel, no network.

    Each slider position shows a precomputed PNG frame; inline JavaScript swaps the ``<img>`` source. Several can
    live on one page; Jupyter (classic, Lab, Colab) shows the same HTML.

    Parameters
    ----------
    frames : callable ``value -> matplotlib Figure`` (may update and return one persistent figure, which is
        fastest), or a list of Figures, one per value. All figures are closed afterwards.
    values : sequence (>= 2 entries) of slider values, in slider order.
    label : name of the slider variable shown next to it (plain text, e.g. ``"ητ"``).
    fmt : format string (``"{:.3g}"``) or callable value -> str for the value label.
    dpi : rendering resolution; 70–80 keeps a frame at ~20–40 kB.
    initial : index of the frame shown first.
    interval_ms : delay between frames when playing.
    alt : alternative text of the image (default: ``"figure with a slider over <label>"``).
    max_bytes : ValueError if the HTML would exceed this size (reduce frames, dpi or figure size).

    Returns an :class:`InteractiveFigure`; display it (last expression of a cell) to show it.

    DOM contract (used by the browser test): ``div.sb-interactive > .sb-controls > input.sb-slider[type=range]``,
    ``button.sb-play``, ``span.sb-value``, and ``img.sb-frame`` whose ``src`` changes with the slider; the root's
    ``data-sb-frame`` attribute holds the index shown.

    Raises TypeError for a non-callable/non-list ``frames``, a non-string ``label``, frames that are not Figures;
    ValueError for fewer than 2 values, mismatched lengths, ``initial`` out of range, ``dpi``/``interval_ms`` <= 0,
    or HTML larger than ``max_bytes``.
    """
    values, labels = _check_slider_args(frames, values, fmt, label, initial)
    if not isinstance(interval_ms, (int, np.integer)) or interval_ms <= 0:
        raise ValueError(f"interval_ms must be a positive integer (milliseconds), got {interval_ms!r}")
    pngs = render_frames(frames, values, dpi=dpi)
    width = _png_width(pngs[0])
    fig = InteractiveFigure(
        pngs,
        values,
        labels,
        label=label,
        initial=int(initial),
        interval_ms=int(interval_ms),
        alt=alt or f"figure with a slider over {label}",
        width=width,
    )
    size = fig.nbytes
    if size > max_bytes:
        raise ValueError(
            f"the interactive figure is {size / 1e6:.2f} MB, more than max_bytes={max_bytes / 1e6:.2f} MB: "
            f"use fewer values ({len(values)} now), a lower dpi ({dpi} now) or a smaller figure"
        )
    return fig


def _png_width(png: bytes) -> int:
    """Pixel width from a PNG header (IHDR)."""
    return int.from_bytes(png[16:20], "big")


def _cached_renderer(frames, values, dpi):
    """``render(i)``: PNG bytes of frame ``i``, rendered on first demand and cached (a figure's layout settled
    the first time it is seen; figures that ``frames`` makes are closed once rendered)."""
    cache: dict[int, bytes] = {}
    seen: list = []

    def render(i: int) -> bytes:
        import matplotlib.pyplot as plt

        if i not in cache:
            fig = frames(values[i]) if callable(frames) else frames[i]
            if not any(fig is f for f in seen):
                seen.append(fig)
                _settle_layout(fig, dpi)
            cache[i] = _figure_png(fig, dpi)
            if callable(frames):
                plt.close(fig)
        return cache[i]

    return render


def _slider_and_play(widgets, n: int, label: str, initial: int, interval_ms: int):
    """An ipywidgets IntSlider over the indices ``0 .. n-1`` and a Play button linked to it (in the browser)."""
    slider = widgets.IntSlider(
        value=initial, min=0, max=n - 1, step=1, description=label, readout=False, continuous_update=True
    )
    play = widgets.Play(value=initial, min=0, max=n - 1, step=1, interval=interval_ms)
    widgets.jslink((play, "value"), (slider, "value"))
    return slider, play


def interactive_widget(
    frames,
    values,
    *,
    label: str,
    fmt="{:.3g}",
    dpi: float = 80,
    initial: int = 0,
    interval_ms: int = 350,
    alt: str | None = None,
    max_bytes: int | None = None,
):
    """The live-kernel twin of :func:`interactive_frames`: an ipywidgets slider + play button + image.

    Same arguments as :func:`interactive_frames` (so a chapter can switch between the two with one name; ``alt``
    becomes the image's tooltip, ``max_bytes`` is ignored). Frames are rendered on demand (and cached) when the
    slider moves, so ``values`` can be much finer here. Needs a running kernel (Colab, Binder, local Jupyter); on the
    static site it shows only the initial frame.

    Returns an ``ipywidgets.VBox`` with attributes ``slider`` (IntSlider over indices), ``image``
    (ipywidgets.Image) and ``render(i)`` (PNG bytes of frame i). Raises like :func:`interactive_frames`.
    """
    import ipywidgets as widgets

    values, labels = _check_slider_args(frames, values, fmt, label, initial)
    if not np.isfinite(dpi) or dpi <= 0:
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    render = _cached_renderer(frames, values, dpi)
    slider, play = _slider_and_play(widgets, len(values), label, int(initial), int(interval_ms))
    text = widgets.Label(value=f"{label} = {labels[initial]}")
    image = widgets.Image(value=render(int(initial)), format="png")
    image.tooltip = alt or f"figure with a slider over {label}"

    def on_change(change):
        i = int(change["new"])
        image.value = render(i)
        text.value = f"{label} = {labels[i]}"

    slider.observe(on_change, names="value")
    box = widgets.VBox([widgets.HBox([play, slider, text]), image])
    box.slider, box.image, box.render = slider, image, render
    return box
