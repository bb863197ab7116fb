"""Figures of a run (book style: colour = variance rank, see ``spectral_bias.plotting``) and the fit look-ups and
labels of the exponent tables next to them (chapters 9, 10 and 11)."""

from __future__ import annotations

import numpy as np

from ..plotting import DATA_COLOR, mode_colors

__all__ = [
    "BRANCH_COLORS",
    "NULL_MODELS",
    "branch_fit",
    "fit_label",
    "fit_labels",
    "plot_alignment",
    "plot_denoiser_grid",
    "plot_emergence",
    "plot_exponents",
    "plot_local_filter_fit",
    "plot_null_model",
    "plot_sample_grid",
    "plot_variance_heatmap",
    "plot_variance_trajectories",
]

BRANCH_COLORS = {"increasing": "tab:red", "decreasing": "tab:blue"}
# the network, then its two linear null models (keys of ``analyze_run(...)["baselines"]``)
NULL_MODELS = (None, "edm-preconditioned", "one-layer")


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
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"$\eta\tau$ (learning rate × step)",
        ylabel=r"$\hat\lambda_k(\tau)/\lambda_k$",
    )
    return ax


def plot_null_model(ax, baseline: dict, eigenvalues, modes, *, every: int = 1):
    """A linear null model's generated over data variance, gen_var_k(τ)/λ_k, against ητ (log–log), drawn like
    :func:`plot_variance_trajectories` and in the same rank colours as the run's own panel (chapter 9).

    ``baseline``: an entry of ``analyze_run(...)["baselines"]`` (or a ``linear_theory_analysis`` result) with
    "times" (T,) and "gen_var" (T, m); ``eigenvalues``: the run's whole spectrum (n,), largest first; ``modes``: the
    m indices into it of the modes the null model follows (the run analysis' "modes"). Every ``every``-th mode is
    drawn; the step-0 point half a step left of the first. Returns the list of lines. Raises ValueError when the
    shapes do not match."""
    lam = np.asarray(eigenvalues, dtype=float)
    modes = np.asarray(modes, dtype=int)
    gv = np.asarray(baseline["gen_var"], dtype=float)
    t = np.asarray(baseline["times"], dtype=float).copy()
    if gv.ndim != 2 or gv.shape != (t.size, modes.size):
        raise ValueError(
            f"baseline['gen_var'] must have shape (len(times), len(modes)) = ({t.size}, {modes.size}), got {gv.shape}"
        )
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be a positive integer, got {every!r}")
    t[0] = t[1] / 2  # t = 0 on a log axis: half a step left of the first positive time
    cols = range(0, modes.size, every)
    lines = []
    for c, j in zip(mode_colors(lam.size, modes[::every]), cols):
        lines += ax.plot(t, gv[:, j] / lam[modes[j]], color=c, lw=1)
    ax.axhline(1.0, color=DATA_COLOR, ls="--", lw=1)
    ax.set(xscale="log", yscale="log", xlabel=r"$\eta\tau$")
    return lines


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
            ax.plot(
                xs,
                10 ** (f["intercept"] + f["slope"] * np.log10(xs)),
                color=col,
                label=f"{b}: α = {f['alpha']:.2f} [{f['ci_alpha'][0]:.2f}, {f['ci_alpha'][1]:.2f}], N = {f['n']}",
            )
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


def branch_fit(
    analysis: dict,
    branch: str = "increasing",
    *,
    criterion: str = "geometric",
    rule: str = "gray-zone",
    model: str | None = None,
) -> dict | None:
    """One power-law fit τ*_k ∝ λ_k^-α: the ``branch`` ("increasing" or "decreasing") modes under ``criterion``
    and exclusion ``rule``. ``analysis``: a run analysed by ``analyze_run`` (its whole-sample modes when ``model``
    is None, else the linear null model ``analysis["baselines"][model]``, e.g. "edm-preconditioned",
    "one-layer"), or one ``emergence_analysis`` result (e.g. a patch analysis; ``model`` must be None).
    Returns the fit dict, or None when the branch has too few modes (format either with :func:`fit_label`).
    Used by chapters 9, 10 and 11. Raises ValueError for an unknown branch, criterion, rule or model."""
    run = "baselines" in analysis and "results" in analysis
    if model is None:
        a = analysis["modes"] if run else analysis
    elif run and model in analysis["baselines"]:
        a = analysis["baselines"][model]
    else:
        known = sorted(analysis["baselines"]) if run else []
        raise ValueError(f"model must be None or one of {known}, got {model!r}")
    if criterion not in a or not isinstance(a[criterion], dict) or "fits" not in a[criterion]:
        raise ValueError(f"criterion {criterion!r} was not analysed; the analysis has criteria {_criteria(a)}")
    fits = a[criterion]["fits"]
    if rule not in fits:
        raise ValueError(f"rule must be one of {sorted(fits)}, got {rule!r}")
    if branch not in fits[rule]:
        raise ValueError(f"branch must be one of {sorted(fits[rule])}, got {branch!r}")
    return fits[rule][branch]


def _criteria(a: dict) -> list:
    return sorted(k for k, v in a.items() if isinstance(v, dict) and "fits" in v)


def fit_label(f: dict | None) -> str:
    """'α = 1.02 [0.89, 1.14] (N = 52)' for a fit dict of ``experiments.analysis`` (or 'too few modes')."""
    if f is None:
        return "too few modes"
    return f"α = {f['alpha']:.2f} [{f['ci_alpha'][0]:.2f}, {f['ci_alpha'][1]:.2f}] (N = {f['n']})"


def fit_labels(
    analysis: dict, branch: str, *, criterion: str = "geometric", rule: str = "gray-zone", models=NULL_MODELS
) -> list[str]:
    """:func:`fit_label` of :func:`branch_fit` for each of ``models`` of an ``analyze_run`` result: by default the
    network, the linear model trained under its protocol and the plain one-layer theory, side by side, the rows
    of the exponent tables of chapters 9, 10 and 11."""
    return [fit_label(branch_fit(analysis, branch, criterion=criterion, rule=rule, model=m)) for m in models]


def plot_variance_heatmap(
    ax, times, gen_var, lam, analysis: dict | None = None, *, criterion: str = "geometric", vmax: float = 2.0
):
    """Heatmap of every mode's generated variance over its data variance, λ̂_k(τ)/λ_k, over (training time, mode
    rank) — the layout of the paper's Figs. 3C and 9B — with each mode's emergence time τ*_k as a dot (red:
    increasing, blue: decreasing) when an ``emergence_analysis`` result is given. Log colour scale centred on 1
    (white = learned). Time on a log axis (the step-0 snapshot drawn half a step left). Returns the image."""
    from matplotlib.colors import LogNorm

    lam = np.asarray(lam, dtype=float)
    modes = np.asarray(analysis["modes"]) if analysis is not None else np.flatnonzero(lam > 1e-4 * lam.max())
    t = np.asarray(times, dtype=float).copy()
    if t[0] == 0:
        t[0] = t[1] / 2
    ratio = np.asarray(gen_var)[:, modes] / lam[modes]
    edges_t = np.concatenate([[t[0] ** 1.5 / t[1] ** 0.5], np.sqrt(t[1:] * t[:-1]), [t[-1] ** 1.5 / t[-2] ** 0.5]])
    im = ax.pcolormesh(
        edges_t,
        np.arange(len(modes) + 1),
        ratio.T,
        cmap="RdBu_r",
        norm=LogNorm(vmin=1 / vmax**2, vmax=vmax**2),
        shading="flat",
    )
    if analysis is not None:
        a = analysis[criterion]
        for b, col in BRANCH_COLORS.items():
            sel = (a["direction"] == b) & np.isfinite(a["tau_star"])
            ax.scatter(a["tau_star"][sel], np.flatnonzero(sel) + 0.5, s=4, color=col, edgecolors="none")
    ax.set(xscale="log", xlabel=r"$\eta\tau$", ylabel="mode rank k (0 = largest variance)")
    ax.invert_yaxis()
    return im


def plot_alignment(ax, res: dict, *, label: str | None = None, patch: bool = False, **kw):
    """Eigenframe alignment score χ(τ) (1 iff the generated covariance is diagonal in the data eigenbasis; paper
    Figs. 10 and 13) against ητ, step 0 drawn half a step left."""
    chi = np.asarray(res["patch_chi"] if patch else res["chi"])
    t = np.asarray(res["times"], dtype=float).copy()
    t[0] = t[1] / 2
    ax.plot(t, chi, label=label, **kw)
    ax.set(xscale="log", xlabel=r"$\eta\tau$", ylabel=r"alignment $\chi$", ylim=(0, 1.02))
    return ax


def plot_exponents(ax, xs, fits: list, *, branch: str, label: str, offset: float = 0.0, **kw):
    """α with its 95% bootstrap interval for a list of fit dicts (None = too few modes: skipped) at positions
    ``xs`` (e.g. patch sizes), for exponent-vs-patch-size panels (paper Figs. 17–20)."""
    pts = [
        (x + offset, f["alpha"], f["alpha"] - f["ci_alpha"][0], f["ci_alpha"][1] - f["alpha"])
        for x, f in zip(xs, fits)
        if f is not None
    ]
    if pts:
        x, a, lo, hi = map(np.array, zip(*pts))
        ax.errorbar(x, a, yerr=[np.maximum(lo, 0), np.maximum(hi, 0)], marker="o", capsize=3, label=label, **kw)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set(ylabel=rf"$\alpha$ ({branch} modes)")
    return ax


def plot_denoiser_grid(fig, grid: dict, *, max_steps: int | None = None):
    """The denoiser D(x + σn; σ) of saved snapshots (rows: training step) at several noise levels (columns),
    with the noisy inputs in the first row (paper Fig. 15). ``grid`` from ``mechanism.denoiser_grid`` or the
    arrays of a committed mechanism.npz (keys grid_steps, grid_noisy, grid_denoised, sigmas). Returns axes."""
    steps = grid.get("grid_steps", grid.get("steps"))
    noisy = grid.get("grid_noisy", grid.get("noisy"))
    den = grid.get("grid_denoised", grid.get("denoised"))
    sig = grid["sigmas"]
    rows = list(range(len(steps)))[:max_steps] if max_steps else list(range(len(steps)))
    axes = fig.subplots(len(rows) + 1, len(sig), squeeze=False)
    for j, s in enumerate(sig):
        axes[0, j].imshow(np.clip((noisy[j, 0] + 1) / 2, 0, 1), cmap="gray", vmin=0, vmax=1)
        axes[0, j].set_title(f"σ = {s:g}", fontsize="small")
        for i, r in enumerate(rows):
            axes[i + 1, j].imshow(np.clip((den[r, j, 0] + 1) / 2, 0, 1), cmap="gray", vmin=0, vmax=1)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    axes[0, 0].set_ylabel("noisy input", fontsize="small")
    for i, r in enumerate(rows):
        axes[i + 1, 0].set_ylabel(f"step {int(steps[r])}", fontsize="small")
    return axes


def plot_local_filter_fit(ax, mech: dict, *, sigma_index: int, learned: bool = True, **kw):
    """R² of the best local linear filter against filter size P, one line per saved training step (paper Fig.
    14), at noise level ``mech['sigmas'][sigma_index]``; ``learned`` uses the learned part D − c_skip x."""
    r2 = np.asarray(mech["r2_learned"] if learned else mech["r2"])[:, sigma_index]
    P = np.asarray(mech["patch_sizes"])
    cols = mode_colors(len(mech["steps"]))
    for c, st, row in zip(cols, mech["steps"], r2):
        ax.plot(P, row, marker="o", color=c, label=f"step {int(st)}", **kw)
    ax.set(
        xlabel="filter size P (P x P taps)",
        ylabel="R² " + ("(learned part)" if learned else "(whole output)"),
        ylim=(min(0.0, float(r2.min())), 1.0),
        xticks=P,
    )
    return ax
