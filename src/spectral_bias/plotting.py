"""One figure style for the whole book.

Colour convention: **a colour is a variance rank**. Mode k of a spectrum with n modes (k = 0 the largest variance)
always gets ``mode_colors(n)[k]``, from the same perceptually uniform colormap, in every chapter. Data (targets) are
drawn in :data:`DATA_COLOR`, theory curves solid, numerical checks as markers.
"""

from __future__ import annotations

import numpy as np

from .theory.constants import SIGMA_MAX, SIGMA_MIN

__all__ = [
    "CHECK_STYLE",
    "DATA_COLOR",
    "MODE_CMAP",
    "InteractiveFigure",
    "interactive_frames",
    "interactive_widget",
    "mode_colorbar",
    "mode_colors",
    "plot_mode_trajectories",
    "render_frames",
    "show_table",
    "table_html",
    "theory_schematic",
    "use_style",
]

MODE_CMAP = "viridis"  # rank 0 (largest variance) = dark purple ... smallest variance = yellow
DATA_COLOR = "0.25"
CHECK_STYLE = dict(marker="o", linestyle="none", markersize=4, markerfacecolor="none")

_RC = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.constrained_layout.use": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "axes.titlesize": "medium",
    "axes.labelsize": "medium",
    "legend.fontsize": "small",
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "image.cmap": MODE_CMAP,
}


def use_style() -> None:
    """Apply the book's matplotlib style (idempotent)."""
    import matplotlib as mpl

    mpl.rcParams.update(_RC)


def mode_colors(n_modes: int, ranks=None) -> np.ndarray:
    """RGBA colours for modes ranked by variance: rank 0 = largest variance.

    Parameters
    ----------
    n_modes : total number of modes in the spectrum (sets the colour scale).
    ranks : optional integer ranks to colour (default: all ``range(n_modes)``).

    Returns an array of shape ``(len(ranks), 4)``.
    """
    import matplotlib as mpl

    if isinstance(n_modes, bool) or not isinstance(n_modes, (int, np.integer)) or n_modes < 1:
        raise ValueError(f"n_modes must be a positive integer, got {n_modes!r}")
    ranks = np.arange(n_modes) if ranks is None else np.asarray(ranks)
    if ranks.size and (ranks.min() < 0 or ranks.max() >= n_modes):
        raise ValueError(f"ranks must lie in [0, {n_modes - 1}], got range [{ranks.min()}, {ranks.max()}]")
    frac = ranks / max(n_modes - 1, 1)
    return mpl.colormaps[MODE_CMAP](0.9 * frac)  # stop short of the palest yellow, which vanishes on white


def mode_colorbar(ax, n_modes: int, label: str = "mode rank k (0 = largest variance)"):
    """Attach a colour bar explaining the rank colours to ``ax``."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    cmap = mpl.colors.ListedColormap(mode_colors(n_modes))
    norm = mpl.colors.Normalize(vmin=0, vmax=n_modes - 1)
    return plt.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=label)


def plot_mode_trajectories(
    ax, times, traj, lam, *, targets="lam", label="$\\lambda$={:g}", xlog=True, ylog=True, target_style=None, **line_kw
):
    """Draw one curve per mode against training time, in the rank colours, with each mode's target as a dashed
    horizontal line: the generated variance λ̂_k(ητ) of Prop. 4.2 and its analogues (chapters 4, 6, 8 and 9), or
    per-mode weights w_k(σ, ητ) (chapter 4).

    ``times`` (T,); ``traj`` (n_modes, T), row k the trajectory of the mode with variance ``lam[k]`` (n_modes,) > 0;
    colours follow the variance rank (largest λ = rank 0, :func:`mode_colors`), whatever the order of ``lam``.
    ``targets``: "lam" (dashed line at λ_k), None (no target lines) or an array (n_modes,) of target levels (e.g.
    the optimal weights). ``label``: a format string applied to λ_k for the legend, or None. ``xlog``/``ylog``:
    logarithmic axes. ``target_style``: keywords for the target lines (default dashed, thin). Further keywords go
    to ``ax.plot``. Returns the list of trajectory lines (one per mode). Raises ValueError on mismatched shapes.
    """
    times = np.asarray(times, dtype=float)
    traj = np.asarray(traj, dtype=float)
    lam = np.asarray(lam, dtype=float)
    if lam.ndim != 1 or lam.size == 0 or np.any(~np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"lam must be a non-empty 1-D array of positive variances, got shape {lam.shape}")
    if times.ndim != 1 or traj.shape != (lam.size, times.size):
        raise ValueError(f"traj must have shape (len(lam), len(times)) = ({lam.size}, {times.size}), got {traj.shape}")
    if isinstance(targets, str):
        if targets != "lam":
            raise ValueError(f"targets must be 'lam', None or an array of {lam.size} levels, got {targets!r}")
        levels = lam
    elif targets is None:
        levels = None
    else:
        levels = np.broadcast_to(np.asarray(targets, dtype=float), lam.shape)
    rank = np.empty(lam.size, dtype=int)
    rank[np.argsort(-lam, kind="stable")] = np.arange(lam.size)
    colors = mode_colors(lam.size, rank)
    style = dict(ls="--", lw=0.7) if target_style is None else dict(target_style)
    lines = []
    for k in range(lam.size):
        kw = dict(color=colors[k], **line_kw)
        if label is not None:
            kw["label"] = label.format(lam[k])
        lines += ax.plot(times, traj[k], **kw)
        if levels is not None:
            ax.axhline(levels[k], color=colors[k], **style)
    if xlog:
        ax.set_xscale("log")
    if ylog:
        ax.set_yscale("log")
    return lines


def table_html(header, rows) -> str:
    """A small table as HTML (so that it renders in the static book as well as in Jupyter). ``header``: the column
    titles; ``rows``: sequences of cells (anything with a ``str``), each as long as the header. Cells are escaped.
    Raises ValueError when a row does not match the header."""
    from html import escape

    header = list(header)
    rows = [list(r) for r in rows]
    for i, r in enumerate(rows):
        if len(r) != len(header):
            raise ValueError(f"rows[{i}] has {len(r)} cells, expected {len(header)} (the length of header)")

    def cells(tag, r):
        return "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in r)

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def show_table(header, rows) -> None:
    """Display :func:`table_html` in the notebook (the result tables of chapters 6, 7 and 8)."""
    from IPython.display import HTML, display

    display(HTML(table_html(header, rows)))


# ----------------------------------------------------------------------------------------------------------------
# Interactive figures: one helper for the static site (precomputed frames driven by inline JS, no kernel, no
# network) and one for readers with a live kernel (ipywidgets). Both take the same ``frames_fn`` and ``values``.
# ----------------------------------------------------------------------------------------------------------------

_JS = r"""
(function () {
  var roots = document.querySelectorAll('div.sb-interactive[data-sb-id="%(uid)s"]');
  roots.forEach(function (root) {
    if (root.getAttribute('data-sb-ready') === '1') { return; }
    root.setAttribute('data-sb-ready', '1');
    var frames = JSON.parse(root.querySelector('script.sb-frames').textContent);
    var labels = JSON.parse(root.querySelector('script.sb-labels').textContent);
    var slider = root.querySelector('input.sb-slider');
    var img = root.querySelector('img.sb-frame');
    var out = root.querySelector('span.sb-value');
    var btn = root.querySelector('button.sb-play');
    var timer = null;
    function show(i) {
      i = Math.max(0, Math.min(frames.length - 1, i | 0));
      img.src = 'data:image/png;base64,' + frames[i];
      out.textContent = labels[i];
      slider.value = i;
      root.setAttribute('data-sb-frame', String(i));
    }
    function stop() { if (timer) { clearInterval(timer); timer = null; } btn.textContent = '\u25B6 play'; }
    slider.addEventListener('input', function () { stop(); show(parseInt(slider.value, 10)); });
    slider.addEventListener('change', function () { show(parseInt(slider.value, 10)); });
    btn.addEventListener('click', function () {
      if (timer) { stop(); return; }
      btn.textContent = '\u23F8 pause';
      if (parseInt(slider.value, 10) >= frames.length - 1) { show(0); }
      timer = setInterval(function () {
        var i = parseInt(slider.value, 10) + 1;
        if (i >= frames.length) { stop(); return; }
        show(i);
      }, %(interval)d);
    });
  });
})();
"""

_CSS = (
    "div.sb-interactive{margin:0.5em 0 1em 0;max-width:100%%}"
    "div.sb-interactive .sb-controls{display:flex;align-items:center;gap:0.6em;flex-wrap:wrap;font-size:0.9em}"
    "div.sb-interactive input.sb-slider{flex:1 1 12em;min-width:8em;max-width:%(width)dpx}"
    "div.sb-interactive button.sb-play{font-size:0.85em;padding:0.1em 0.6em;cursor:pointer}"
    "div.sb-interactive span.sb-value{font-family:monospace;white-space:nowrap}"
    "div.sb-interactive img.sb-frame{display:block;max-width:100%%;height:auto}"
)


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
        # JSON inside <script> must not contain "</": escape it (labels are user text)
        frames_json = json.dumps(b64)
        labels_json = json.dumps([f"{self.label} = {lab}" for lab in self.labels]).replace("</", "<\\/")
        i0 = self.initial
        esc = html.escape
        return (
            f'<div class="sb-interactive" data-sb-id="{self.uid}" data-sb-frame="{i0}" '
            f'data-sb-nframes="{len(self.frames)}">'
            f"<style>{_CSS % dict(width=self.width)}</style>"
            '<div class="sb-controls">'
            '<button type="button" class="sb-play" title="play / pause">\u25b6 play</button>'
            f'<input type="range" class="sb-slider" min="0" max="{len(self.frames) - 1}" step="1" value="{i0}" '
            f'aria-label="{esc(self.label)}">'
            f'<span class="sb-value">{esc(self.label)} = {esc(self.labels[i0])}</span>'
            "</div>"
            f'<img class="sb-frame" src="data:image/png;base64,{b64[i0]}" alt="{esc(self.alt)}">'
            f'<script type="application/json" class="sb-frames">{frames_json}</script>'
            f'<script type="application/json" class="sb-labels">{labels_json}</script>'
            f"<script>{_JS % dict(uid=self.uid, interval=self.interval_ms)}</script>"
            "</div>"
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
    if not isinstance(label, str) or not label:
        raise TypeError(f"label must be a non-empty string naming the slider variable, got {label!r}")
    values, labels = _check_frames_args(frames, values, fmt)
    if isinstance(initial, bool) or not isinstance(initial, (int, np.integer)) or not 0 <= initial < len(values):
        raise ValueError(f"initial must be an index in [0, {len(values) - 1}], got {initial!r}")
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

    if not isinstance(label, str) or not label:
        raise TypeError(f"label must be a non-empty string naming the slider variable, got {label!r}")
    values, labels = _check_frames_args(frames, values, fmt)
    if isinstance(initial, bool) or not isinstance(initial, (int, np.integer)) or not 0 <= initial < len(values):
        raise ValueError(f"initial must be an index in [0, {len(values) - 1}], got {initial!r}")
    if not np.isfinite(dpi) or dpi <= 0:
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
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

    slider = widgets.IntSlider(
        value=int(initial), min=0, max=len(values) - 1, step=1, description=label, readout=False, continuous_update=True
    )
    text = widgets.Label(value=f"{label} = {labels[initial]}")
    play = widgets.Play(value=int(initial), min=0, max=len(values) - 1, step=1, interval=int(interval_ms))
    widgets.jslink((play, "value"), (slider, "value"))
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


# ------------------------------------------------------------------------------------------------------------------
# the whole theory in one figure (the book's introduction)
# ------------------------------------------------------------------------------------------------------------------


def theory_schematic(lam=None, *, eta=1.0, q=0.1, sigma_min=SIGMA_MIN, sigma_max=SIGMA_MAX, figsize=(11.0, 3.0)):
    """The story of the book in four computed panels, the counterpart of the paper's Fig. 1 (used in the
    introduction, ``intro.md``):

    1. the data spectrum λ_k (default five modes from 10 down to 10⁻³, four decades);
    2. the optimal linear denoiser's gain per mode, w*_k(σ) = λ_k/(λ_k + σ²) (eq. 6; chapters 1–2): a mode is kept
       only at noise levels σ² ≲ λ_k;
    3. learning: the generated variance λ̂_k(ητ) of a one-layer linear denoiser trained from the weight ``q``
       (Prop. 4.2; chapter 4), each mode with its emergence time τ*_k (first passage through the geometric mean of
       start and converged value; chapter 5), so τ*_k ∝ 1/λ_k;
    4. samples: the generated spectrum at three training times chosen between consecutive emergence times, against
       the data spectrum: high-variance modes (coarse structure) appear first, low-variance ones (fine detail) last.

    Every curve is computed from :mod:`spectral_bias.theory`; nothing is drawn by hand. ``lam``: 1-D positive
    variances (sorted in decreasing order here). Returns the matplotlib Figure; its ``schematic`` attribute holds the
    computed arrays (``lam``, ``sigma``, ``gain``, ``eta_tau``, ``gen_var``, ``tau_star``, ``snapshot_times``,
    ``snapshot_spectra``). Raises ValueError for fewer than two variances or non-positive ones.
    """
    import matplotlib.pyplot as plt

    from . import theory

    lam = np.logspace(1, -3, 5) if lam is None else np.sort(np.asarray(lam, dtype=float).ravel())[::-1]
    if lam.size < 2 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"lam must hold at least two positive finite variances, got {lam!r}")
    kw = dict(sigma_min=sigma_min, sigma_max=sigma_max)
    n = lam.size
    colors = mode_colors(n)
    sigma = np.geomspace(sigma_min, sigma_max, 400)
    gain = theory.optimal_weight(lam[:, None], sigma[None, :])
    tau_star = theory.one_layer_emergence_time(lam, eta=eta, q=q, **kw).tau_star
    lo, hi = np.nanmin(tau_star), np.nanmax(tau_star)
    eta_tau = np.geomspace(lo / 1e3, hi * 1e2, 500)
    gen_var = theory.one_layer_generated_variance(lam[:, None], eta_tau[None, :] / eta, eta=eta, q=q, **kw)
    order = np.sort(tau_star)
    picks = [0, (n - 1) // 2, n - 2]
    snap_t = np.array([np.sqrt(order[i] * order[i + 1]) for i in picks])
    snap = theory.one_layer_generated_variance(lam[:, None], snap_t[None, :] / eta, eta=eta, q=q, **kw).T

    fig, axs = plt.subplots(1, 4, figsize=figsize)
    ranks = np.arange(n)
    ax = axs[0]
    ax.scatter(ranks, lam, c=colors, s=40, zorder=3)
    ax.vlines(ranks, lam.min() / 3, lam, colors=colors)
    ax.set(
        yscale="log",
        xlabel="mode k (by variance)",
        ylabel=r"variance $\lambda_k$",
        title="1  data spectrum  →",
        xticks=ranks,
    )
    ax = axs[1]
    for k in range(n):
        ax.plot(sigma, gain[k], color=colors[k])
    ax.set(
        xscale="log",
        xlabel=r"noise level $\sigma$",
        ylabel=r"gain $\lambda_k/(\lambda_k+\sigma^2)$",
        title="2  linear denoiser  →",
        ylim=(-0.03, 1.03),
    )
    ax = axs[2]
    for k in range(n):
        ax.plot(eta_tau, gen_var[k], color=colors[k])
        ax.axhline(lam[k], color=colors[k], ls=":", lw=0.8)
        if np.isfinite(tau_star[k]):
            y = theory.one_layer_generated_variance(lam[k], tau_star[k] / eta, eta=eta, q=q, **kw)
            ax.plot(tau_star[k], y, "o", color=colors[k], ms=5, zorder=3)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"training time $\eta\tau$",
        ylabel=r"generated variance $\hat\lambda_k$",
        title=r"3  learning: $\tau^*_k \propto 1/\lambda_k$  →",
    )
    ax = axs[3]
    ax.plot(ranks, lam, "o--", color=DATA_COLOR, label="data", ms=4)
    shades = [0.75, 0.5, 0.2]
    for j, t in enumerate(snap_t):
        ax.plot(ranks, snap[j], "s-", color=str(shades[j]), ms=3, label=rf"$\eta\tau = {t:.2g}$")
    ax.set(
        yscale="log", xlabel="mode k (by variance)", ylabel="variance of the samples", title="4  samples", xticks=ranks
    )
    ax.legend(loc="lower left")
    fig.schematic = dict(
        lam=lam,
        sigma=sigma,
        gain=gain,
        eta_tau=eta_tau,
        gen_var=gen_var,
        tau_star=tau_star,
        snapshot_times=snap_t,
        snapshot_spectra=snap,
    )
    return fig
