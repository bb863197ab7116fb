"""Analysis of a run: emergence times and power-law fits of the generated-variance trajectories (protocol of
App. I of Wang & Pehlevan 2025), reusing ``theory.emergence_time`` and ``theory.fit_power_law``.

For each criterion (geometric / harmonic mean of initial and target) and each exclusion rule ("gray-zone": the
per-mode rule on the first recorded value; "authors": the same rule on the smoothed start), increasing and
decreasing modes are fitted separately: log10 τ* = a + slope log10 λ, α = −slope.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import theory
from .checkpoint import atomic_write
from .train import load_results

__all__ = [
    "BASELINES",
    "analyze_run",
    "baseline_analyses",
    "committed_runs",
    "conv_theory_analysis",
    "crossing_summary",
    "emergence_analysis",
    "format_summary",
    "linear_theory_analysis",
]

BASELINES = ("edm-preconditioned", "one-layer")


def emergence_analysis(
    times,
    gen_var,
    eigenvalues,
    *,
    criteria=("geometric", "harmonic"),
    smooth=1.0,
    rel_floor=1e-4,
    n_boot=1000,
    seed=0,
    targets=None,
) -> dict:
    """Emergence times and branch-wise power-law fits for trajectories gen_var (T, d) at times (T,) against
    the data variances eigenvalues (d,). ``targets`` (d,): the values the thresholds aim at (default: the
    eigenvalues, as for networks; a model that converges elsewhere may use its own limit).

    Modes with λ_k <= rel_floor · λ_max (numerically empty directions, e.g. constant MNIST border pixels) are
    skipped. τ* is computed on trajectories smoothed with a Gaussian filter of width ``smooth`` snapshots (the
    authors use 1 for image runs). Returns {criterion: {"tau_star": (d,), "direction": (d,), "fits": {rule:
    {branch: fit-dict or None}}}} plus "modes" (indices used). Raises ValueError on shape mismatch.
    """
    times = np.asarray(times, dtype=float)
    G = np.asarray(gen_var, dtype=float)
    lam = np.asarray(eigenvalues, dtype=float)
    if G.ndim != 2 or G.shape != (times.size, lam.size):
        raise ValueError(f"gen_var must have shape ({times.size}, {lam.size}), got {G.shape}")
    modes = np.flatnonzero(lam > rel_floor * lam.max())
    traj = np.clip(G[:, modes].T, 1e-12, None)
    lm = lam[modes]
    tg = lm if targets is None else np.asarray(targets, dtype=float)[modes]
    out = {"modes": modes}
    for crit in criteria:
        em = theory.emergence_time(times, traj, tg, criterion=crit, smooth=smooth)
        fits = {}
        for rule in ("gray-zone", "authors"):
            kw = dict(exclude=rule, target=tg, n_boot=n_boot, seed=seed)
            kw.update(initial=traj[:, 0]) if rule == "gray-zone" else kw.update(trajectories=traj, smooth=smooth)
            fits[rule] = theory.fit_branches(lm, em.tau_star, em.direction, **kw)
        out[crit] = dict(tau_star=em.tau_star, direction=em.direction, threshold=em.threshold, fits=fits)
    return out


def linear_theory_analysis(
    eigenvalues,
    *,
    model: str = "one-layer",
    q: float = 0.1,
    n_times: int = 160,
    rel_floor: float = 1e-4,
    sigma_min: float = theory.SIGMA_MIN,
    sigma_max: float = theory.SIGMA_MAX,
    sampler_steps: int = 20,
    rho: float = 7.0,
    p_mean: float = -1.2,
    p_std: float = 1.2,
    sigma_data: float = theory.SIGMA_DATA,
) -> dict:
    """The emergence analysis of a linear null model for the same spectrum, fitted exactly like a network run.

    model="one-layer": the plain one-layer theory of the paper (Prop. 4.2, ``theory.one_layer_generated_variance``,
    η = 1, initial weight ``q``, PF-ODE integrated exactly from σ_max down to σ_min).
    model="edm-preconditioned": the linear model trained under the networks' own protocol (chapter 8:
    ``theory.preconditioned_weight``: EDM preconditioning with initial weight c_skip(σ), EDM loss weighting and
    log-normal σ sampling with ``p_mean``, ``p_std``, ``sigma_data``) and sampled with the networks' sampler
    (``theory.heun_generated_variance``: ``sampler_steps`` Heun steps on the EDM schedule with ``rho``, then the
    final Euler step to σ = 0, as ``nets.heun_sample`` does).
    Times: a log grid from 1e-3/λ_max to 1e4/λ_min (plus 0), wide enough for every mode under both models.
    Returns the ``emergence_analysis`` dict plus "times", "gen_var" and "model".
    Raises ValueError for an unknown model or non-positive eigenvalues after the floor."""
    if model not in BASELINES:
        raise ValueError(f"model must be one of {BASELINES}, got {model!r}")
    lam = np.asarray(eigenvalues, dtype=float)
    lm = lam[lam > rel_floor * lam.max()]
    times = np.concatenate([[0.0], np.geomspace(1e-3 / lm.max(), 1e4 / lm.min(), n_times)])
    if model == "one-layer":
        gv = theory.one_layer_generated_variance(
            lm[None, :], times[:, None], eta=1.0, q=q, sigma_min=sigma_min, sigma_max=sigma_max
        )
    else:
        sig = theory.edm_sigma_schedule(int(sampler_steps), sigma_min, sigma_max, rho, append_zero=True)
        gv = theory.heun_generated_variance(
            theory.preconditioned_weight,
            lm[None, :],
            times[:, None],
            sig,
            p_mean=p_mean,
            p_std=p_std,
            sigma_data=sigma_data,
        )
    out = emergence_analysis(times, gv, lm, smooth=None, rel_floor=0.0)
    out.update(times=times, gen_var=gv, model=model)
    return out


def baseline_analyses(eigenvalues, config: dict) -> dict:
    """Both null models for a run's spectrum and config dict (``ExperimentConfig.to_dict()``):
    {"edm-preconditioned": same protocol (the run's P_mean, P_std, sigma_data, sampler steps, σ range, ρ and end
    point), "one-layer": the paper's plain theory at Q = 0.1}. See :func:`linear_theory_analysis`."""
    e, t, m = config["eval"], config["train"], config["model"]
    return {
        "edm-preconditioned": linear_theory_analysis(
            eigenvalues,
            model="edm-preconditioned",
            sigma_min=e["sigma_min"],
            sigma_max=e["sigma_max"],
            sampler_steps=e["sampler_steps"],
            rho=e["rho"],
            p_mean=t["P_mean"],
            p_std=t["P_std"],
            sigma_data=m["sigma_data"],
        ),
        "one-layer": linear_theory_analysis(
            eigenvalues, model="one-layer", sigma_min=e["sigma_min"], sigma_max=e["sigma_max"]
        ),
    }


def conv_theory_analysis(
    images,
    eigenvalues,
    eigenvectors,
    config: dict,
    *,
    patch_sizes=(3, 5, 7),
    circulant: bool = True,
    n_times: int = 160,
    rel_floor: float = 1e-4,
) -> dict:
    """Convolutional linear theories trained and sampled under the networks' protocol, measured in the image
    eigenbasis and fitted exactly like a network run (chapter 10).

    For each local P x P filter (Prop. 5.4, ``theory.patch_gains_preconditioned``) and the full-width circular
    filter (Prop. 5.3, ``theory.circulant_gains_preconditioned``), with the Fourier variances of ``images``
    ((n, 1, H, W) or (n, H, W), grey): the Heun sampler of the run's config generates the stationary spectrum
    ``theory.heun_generated_variance_from_gains``; its variance along each data eigenvector u_k
    (``theory.basis_variances_from_fourier``) is then analysed with :func:`emergence_analysis` against λ_k.
    Times: a log grid from 1e-4/(N λ_max) to 1e4/λ_min (plus 0). Returns {"patch3": analysis, ..., "circulant":
    analysis}, each with "times" and "gen_var" (T, d). Raises ValueError for multi-channel images."""
    x = np.asarray(images, dtype=float)
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"images must be grey (n, 1, H, W), got {x.shape}")
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"images must have shape (n, 1, H, W) or (n, H, W), got {x.shape}")
    lam_f = theory.fourier_variances_from_samples(x)
    lam = np.asarray(eigenvalues, dtype=float)
    U = np.asarray(eigenvectors, dtype=float)
    N = lam_f.size
    e, t, m = config["eval"], config["train"], config["model"]
    sig = theory.edm_sigma_schedule(int(e["sampler_steps"]), e["sigma_min"], e["sigma_max"], e["rho"], append_zero=True)
    edm = dict(p_mean=t["P_mean"], p_std=t["P_std"], sigma_data=m["sigma_data"])
    lm = lam[lam > rel_floor * lam.max()]
    times = np.concatenate([[0.0], np.geomspace(1e-4 / (N * lm.max()), 1e4 / lm.min(), n_times)])
    models = {
        f"patch{P}": (lambda s, P=P: theory.patch_gains_preconditioned(lam_f, P, s, times, **edm)) for P in patch_sizes
    }
    if circulant:
        models["circulant"] = lambda s: theory.circulant_gains_preconditioned(lam_f, s, times, **edm)
    out = {}
    for name, gains in models.items():
        gv = theory.basis_variances_from_fourier(theory.heun_generated_variance_from_gains(gains, sig), U)
        an = emergence_analysis(times, gv, lam, smooth=None, rel_floor=rel_floor)
        an.update(
            times=times,
            gen_var=gv,
            own_limit=emergence_analysis(times, gv, lam, smooth=None, rel_floor=rel_floor, targets=gv[-1]),
        )
        out[name] = an
    return out


def crossing_summary(an: dict) -> dict:
    """How many analysed modes crossed their threshold within the run, per criterion: {criterion: {"n_modes",
    "n_crossed", "fraction", "n_increasing", "n_decreasing"}} (the rest are censored: still on their way at the
    last snapshot)."""
    out = {}
    for crit in ("geometric", "harmonic"):
        if crit not in an:
            continue
        tau, d = an[crit]["tau_star"], an[crit]["direction"]
        ok = np.isfinite(tau)
        out[crit] = dict(
            n_modes=int(tau.size),
            n_crossed=int(ok.sum()),
            fraction=float(ok.mean()) if tau.size else float("nan"),
            n_increasing=int(np.sum(d == "increasing")),
            n_decreasing=int(np.sum(d == "decreasing")),
        )
    return out


def _jsonable(fits):
    return json.loads(json.dumps(fits, default=float))


def _patch_keys(r: dict, main_size: int) -> dict:
    """{patch size: results key prefix} for every patch measurement in a results dict (the main one, of size
    eval.patch_size = ``main_size``, is stored under "patch_*", the extra ones under "patch{P}_*")."""
    keys = {main_size: "patch"} if "patch_gen_var" in r else {}
    for k in r:
        if k.startswith("patch") and k.endswith("_gen_var") and k[5:-8].isdigit():
            keys[int(k[5:-8])] = k[:-8]
    return keys


def _brief(an):
    return {
        c: {
            rule: {
                b: (None if f is None else {k: f[k] for k in ("alpha", "ci_alpha", "r2", "n")})
                for b, f in an[c]["fits"][rule].items()
            }
            for rule in an[c]["fits"]
        }
        for c in ("geometric", "harmonic")
    }


def committed_runs(preset: str, root: str | Path | None = None) -> list[Path]:
    """Folders of the committed results of a preset, ``<root>/<preset>/seed*/``, sorted by seed; empty if there
    are none. ``root`` defaults to the results shipped with the package (``spectral_bias/_results``, which a
    checkout also shows as ``data/results``), so the chapters that load them (10, 11) run from an installed
    package too, e.g. in Colab."""
    if root is None:
        from importlib import resources

        root = Path(str(resources.files("spectral_bias") / "_results"))
    base = Path(root) / preset
    runs = [p for p in base.glob("seed*") if (p / "results.json").is_file() and p.name[4:].isdigit()]
    return sorted(runs, key=lambda p: int(p.name[4:]))


def analyze_run(run_dir: str | Path, *, smooth: float = 1.0, write: bool = True) -> dict:
    """Analyse a finished run folder: whole-sample modes, patch modes if measured (every patch size), and the
    two linear null models of :func:`baseline_analyses` fitted the same way. Writes ``analysis.json`` (fits,
    crossing counts, baselines, summary) and returns {"summary": ..., "modes": analysis dict, "patch": ... or
    None, "patch_sizes": {P: analysis}, "baselines": {name: analysis}, "results": ...}.
    ``write=False`` leaves the folder untouched (for committed results read by the book).
    Raises FileNotFoundError if the run has no results yet."""
    run_dir = Path(run_dir)
    r = load_results(run_dir)
    a = emergence_analysis(r["times"], r["gen_var"], r["eigenvalues"], smooth=smooth)
    cfg = r["info"]["config"]
    main_size = int(cfg["eval"].get("patch_size") or 0)
    patches = {
        size: emergence_analysis(r["times"], r[f"{key}_gen_var"], r[f"{key}_eigenvalues"], smooth=smooth)
        for size, key in _patch_keys(r, main_size).items()
    }
    p = patches.get(main_size)
    base = baseline_analyses(r["eigenvalues"], cfg)
    summary = dict(
        name=cfg["name"],
        final_chi=float(r["chi"][-1]),
        final_mean_err=float(r["mean_err"][-1]),
        final_median_ratio=float(np.median(r["gen_var"][-1][a["modes"]] / r["eigenvalues"][a["modes"]])),
        fits=_brief(a),
        crossed=crossing_summary(a),
        patch_fits=_brief(p) if p else None,
        patch_size_fits={str(k): _brief(v) for k, v in sorted(patches.items())},
        baselines={k: _brief(v) for k, v in base.items()},
        baselines_crossed={k: crossing_summary(v) for k, v in base.items()},
        linear_theory_fits=_brief(base["one-layer"]),
        timings=r["info"]["timings"],
    )
    if write:  # atomically: a crash leaves the old file or the new one
        with atomic_write(run_dir / "analysis.json", "w") as f:
            f.write(json.dumps(_jsonable(summary), indent=1))
        info = dict(r["info"], analysis=_jsonable(summary))  # results.json also carries the fits
        with atomic_write(run_dir / "results.json", "w") as f:
            f.write(json.dumps(info, indent=1))
    return dict(
        summary=_jsonable(summary),
        modes=a,
        patch=p,
        patch_sizes=patches,
        baselines=base,
        linear=base["one-layer"],
        results=r,
    )


_SUMMARY_FIT_TABLES = (("modes", "fits"), ("patch modes", "patch_fits"), ("linear thy", "linear_theory_fits"))


def _fit_text(fit: dict | None) -> str:
    """One branch fit of a summary as text: exponent, its 95% bootstrap interval, R² and mode count."""
    if fit is None:
        return "too few modes"
    lo, hi = fit["ci_alpha"]
    return f"alpha = {fit['alpha']:.2f}  95% CI [{lo:.2f}, {hi:.2f}]  R2 = {fit['r2']:.2f}  N = {fit['n']}"


def format_summary(summary: dict) -> str:
    """A compact, human-readable table of the ``summary`` that :func:`analyze_run` returns: final alignment,
    error and variance ratio, one line per branch fit (whole-sample modes, patch modes, the linear theory) and
    the timings. The one formatter of the command line (``spectral-bias analyze`` / ``run``) and chapter 9."""
    lines = [
        f"run {summary['name']}: final alignment chi = {summary['final_chi']:.3f}, "
        f"mean error = {summary['final_mean_err']:.3g}, median gen_var/lambda = {summary['final_median_ratio']:.3f}"
    ]
    for label, key in _SUMMARY_FIT_TABLES:
        for crit, rules in (summary.get(key) or {}).items():
            for rule, branches in rules.items():
                for branch, fit in branches.items():
                    lines.append(f"  {label:11s} {crit:9s} {rule:9s} {branch:10s} {_fit_text(fit)}")
    t = summary["timings"]
    lines.append(f"  timings: setup {t['setup_s']:.1f} s, train {t['train_s']:.1f} s, measure {t['measure_s']:.1f} s")
    return "\n".join(lines)
