"""One figure style for the whole book.

Colour convention: **a colour is a variance rank**. Mode k of a spectrum with n modes (k = 0 the largest variance)
always gets ``mode_colors(n)[k]``, from the same perceptually uniform colormap, in every chapter. Data (targets) are
drawn in :data:`DATA_COLOR`, theory curves solid, numerical checks as markers.

The kernel-free interactive figures live in :mod:`spectral_bias.interactive` (their HTML, CSS and JavaScript are
package data); their names are importable from here too, as the chapters do.
"""

from __future__ import annotations

import numpy as np

from .interactive import InteractiveFigure, interactive_frames, interactive_widget, render_frames
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

    lam = np.logspace(1, -3, 5) if lam is None else np.sort(np.asarray(lam, dtype=float).ravel())[::-1]
    if lam.size < 2 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"lam must hold at least two positive finite variances, got {lam!r}")
    data, emergence = _schematic_curves(lam, eta=eta, q=q, sigma_min=sigma_min, sigma_max=sigma_max)
    colors = mode_colors(lam.size)
    fig, axs = plt.subplots(1, 4, figsize=figsize)
    _draw_data_spectrum(axs[0], lam, colors)
    _draw_denoiser_gain(axs[1], data["sigma"], data["gain"], colors)
    _draw_learning(axs[2], data["eta_tau"], data["gen_var"], lam, emergence, colors)
    _draw_sample_spectra(axs[3], lam, data["snapshot_times"], data["snapshot_spectra"])
    fig.schematic = data
    return fig


def _schematic_curves(lam, *, eta, q, sigma_min, sigma_max) -> tuple[dict, dict]:
    """The curves of :func:`theory_schematic`, computed by :mod:`spectral_bias.theory` for variances ``lam``
    (decreasing): the optimal gain λ/(λ + σ²) on a σ grid (eq. 6), the one-layer generated variance on an ητ grid
    (Prop. 4.2), the emergence times τ*, and three snapshot spectra at times between consecutive emergence times
    (the geometric mean of two neighbours). Returns the dict stored as ``fig.schematic`` and the emergence points
    ``{k: (ητ*_k, λ̂_k(τ*_k))}`` of the modes that emerge."""
    from . import theory

    kw = dict(sigma_min=sigma_min, sigma_max=sigma_max)
    n = lam.size
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
    emergence = {
        k: (tau_star[k], theory.one_layer_generated_variance(lam[k], tau_star[k] / eta, eta=eta, q=q, **kw))
        for k in range(n)
        if np.isfinite(tau_star[k])
    }
    data = dict(
        lam=lam,
        sigma=sigma,
        gain=gain,
        eta_tau=eta_tau,
        gen_var=gen_var,
        tau_star=tau_star,
        snapshot_times=snap_t,
        snapshot_spectra=snap,
    )
    return data, emergence


def _draw_data_spectrum(ax, lam, colors) -> None:
    """Panel 1 of :func:`theory_schematic`: the variances λ_k as stems over the mode rank."""
    ranks = np.arange(lam.size)
    ax.scatter(ranks, lam, c=colors, s=40, zorder=3)
    ax.vlines(ranks, lam.min() / 3, lam, colors=colors)
    ax.set(
        yscale="log",
        xlabel="mode k (by variance)",
        ylabel=r"variance $\lambda_k$",
        title="1  data spectrum  →",
        xticks=ranks,
    )


def _draw_denoiser_gain(ax, sigma, gain, colors) -> None:
    """Panel 2 of :func:`theory_schematic`: the optimal linear denoiser's gain per mode against σ."""
    for k in range(gain.shape[0]):
        ax.plot(sigma, gain[k], color=colors[k])
    ax.set(
        xscale="log",
        xlabel=r"noise level $\sigma$",
        ylabel=r"gain $\lambda_k/(\lambda_k+\sigma^2)$",
        title="2  linear denoiser  →",
        ylim=(-0.03, 1.03),
    )


def _draw_learning(ax, eta_tau, gen_var, lam, emergence, colors) -> None:
    """Panel 3 of :func:`theory_schematic`: generated variance against training time, each mode's target dotted
    and its emergence point marked."""
    for k in range(lam.size):
        ax.plot(eta_tau, gen_var[k], color=colors[k])
        ax.axhline(lam[k], color=colors[k], ls=":", lw=0.8)
        if k in emergence:
            ax.plot(*emergence[k], "o", color=colors[k], ms=5, zorder=3)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"training time $\eta\tau$",
        ylabel=r"generated variance $\hat\lambda_k$",
        title=r"3  learning: $\tau^*_k \propto 1/\lambda_k$  →",
    )


def _draw_sample_spectra(ax, lam, snap_t, snap) -> None:
    """Panel 4 of :func:`theory_schematic`: the generated spectrum at the snapshot times (light to dark) against
    the data spectrum."""
    ranks = np.arange(lam.size)
    ax.plot(ranks, lam, "o--", color=DATA_COLOR, label="data", ms=4)
    shades = [0.75, 0.5, 0.2]
    for j, t in enumerate(snap_t):
        ax.plot(ranks, snap[j], "s-", color=str(shades[j]), ms=3, label=rf"$\eta\tau = {t:.2g}$")
    ax.set(
        yscale="log", xlabel="mode k (by variance)", ylabel="variance of the samples", title="4  samples", xticks=ranks
    )
    ax.legend(loc="lower left")
