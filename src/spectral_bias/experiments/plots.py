"""Figures of a run (book style: colour = variance rank, see ``spectral_bias.plotting``)."""
from __future__ import annotations

import numpy as np

from ..plotting import DATA_COLOR, mode_colors

__all__ = ["plot_variance_trajectories", "plot_emergence", "plot_sample_grid", "BRANCH_COLORS"]

BRANCH_COLORS = {"increasing": "tab:red", "decreasing": "tab:blue"}


def plot_variance_trajectories(ax, res: dict, *, patch: bool = False, every: int = 1, lr: float | None = None):
    """Generated variance over data variance, gen_var_k(τ)/λ_k, against ητ (log–log), one line per mode
    (every ``every``-th mode), coloured by variance rank. The step-0 snapshot is drawn at the left edge."""
    gv = res["patch_gen_var"] if patch else res["gen_var"]
    lam = res["patch_eigenvalues"] if patch else res["eigenvalues"]
    keep = np.flatnonzero(lam > 1e-4 * lam.max())[::every]
    t = np.asarray(res["times"], dtype=float).copy()
    t[0] = t[1] / 2  # the initial snapshot, drawn half a step left of the first update
    cols = mode_colors(len(lam), keep)
    for c, k in zip(cols, keep):
        ax.plot(t, gv[:, k] / lam[k], color=c, lw=1)
    ax.axhline(1.0, color=DATA_COLOR, ls="--", lw=1)
    ax.set(xscale="log", yscale="log", xlabel=r"$\eta\tau$ (learning rate × step)",
           ylabel=r"$\hat\lambda_k(\tau)/\lambda_k$")
    return ax


def plot_emergence(ax, lam, analysis: dict, *, criterion: str = "geometric", rule: str = "gray-zone"):
    """τ*_k against λ_k (log–log) for the increasing (red) and decreasing (blue) modes of an
    ``emergence_analysis`` result, with the fitted power laws, α and its 95% bootstrap interval in the legend."""
    lam = np.asarray(lam)[analysis["modes"]]
    a = analysis[criterion]
    for b, col in BRANCH_COLORS.items():
        sel = (a["direction"] == b) & np.isfinite(a["tau_star"])
        if not sel.any():
            continue
        ax.scatter(lam[sel], a["tau_star"][sel], s=12, color=col, alpha=0.7)
        f = a["fits"][rule][b]
        if f is not None:
            xs = np.geomspace(lam[sel].min(), lam[sel].max(), 20)
            ax.plot(xs, 10 ** (f["intercept"] + f["slope"] * np.log10(xs)), color=col,
                    label=f"{b}: α = {f['alpha']:.2f} [{f['ci_alpha'][0]:.2f}, {f['ci_alpha'][1]:.2f}], N = {f['n']}")
    ax.set(xscale="log", yscale="log", xlabel=r"data variance $\lambda_k$", ylabel=r"emergence time $\eta\tau^*_k$")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")
    return ax


def plot_sample_grid(fig, res: dict, image_shape, *, n_cols: int | None = None):
    """Samples from the fixed noise bank at the stored snapshots: one row per snapshot, one column per noise
    seed (the same seed in every row). image_shape = (C, H, W). Returns the axes array."""
    S = res["show_samples"]
    n_rows, n_cols = S.shape[0], n_cols or S.shape[1]
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    C, H, W = image_shape
    for i in range(n_rows):
        for j in range(n_cols):
            img = S[i, j].reshape(C, H, W).transpose(1, 2, 0)
            img = np.clip((img + 1) / 2, 0, 1)
            axes[i, j].imshow(img[..., 0] if C == 1 else img, cmap="gray", vmin=0, vmax=1)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            axes[i, j].grid(False)
        axes[i, 0].set_ylabel(f"step {int(res['show_steps'][i])}", fontsize="small")
    return axes
