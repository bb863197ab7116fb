"""One figure style for the whole book.

Colour convention: **a colour is a variance rank**. Mode k of a spectrum with n modes (k = 0 the largest variance)
always gets ``mode_colors(n)[k]``, from the same perceptually uniform colormap, in every chapter. Data (targets) are
drawn in :data:`DATA_COLOR`, theory curves solid, numerical checks as markers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DATA_COLOR", "CHECK_STYLE", "MODE_CMAP", "use_style", "mode_colors", "mode_colorbar"]

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
