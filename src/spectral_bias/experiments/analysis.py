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
from .train import load_results

__all__ = ["emergence_analysis", "linear_theory_analysis", "analyze_run"]


def _fit_or_none(lam, tau, **kw):
    try:
        f = theory.fit_power_law(lam, tau, **kw)
    except ValueError:  # fewer than 3 usable modes in this branch
        return None
    return dict(alpha=f.alpha, slope=f.slope, intercept=f.intercept, r2=f.r2, n=f.n, ci_slope=list(f.ci),
                ci_alpha=[-f.ci[1], -f.ci[0]])


def emergence_analysis(times, gen_var, eigenvalues, *, criteria=("geometric", "harmonic"), smooth=1.0,
                       rel_floor=1e-4, n_boot=1000, seed=0) -> dict:
    """Emergence times and branch-wise power-law fits for trajectories gen_var (T, d) at times (T,) against
    the data variances eigenvalues (d,).

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
    out = {"modes": modes}
    for crit in criteria:
        em = theory.emergence_time(times, traj, lm, criterion=crit, smooth=smooth)
        fits = {}
        for rule in ("gray-zone", "authors"):
            kw = dict(exclude=rule, target=lm, n_boot=n_boot, seed=seed)
            kw.update(initial=traj[:, 0]) if rule == "gray-zone" else kw.update(trajectories=traj, smooth=smooth)
            fits[rule] = {b: _fit_or_none(lm, np.where(em.direction == b, em.tau_star, np.nan), **kw)
                          for b in ("increasing", "decreasing")}
        out[crit] = dict(tau_star=em.tau_star, direction=em.direction, threshold=em.threshold, fits=fits)
    return out


def linear_theory_analysis(eigenvalues, *, q: float = 0.1, n_times: int = 120, rel_floor: float = 1e-4,
                           sigma_min: float = 0.002, sigma_max: float = 80.0) -> dict:
    """The same emergence analysis on the one-layer linear theory (Prop. 4.2 of Wang & Pehlevan 2025, via
    ``theory.one_layer_generated_variance``, η = 1, initial weight q) for the same spectrum, on a log time grid
    wide enough for every mode (ητ from 1e-2/λ_max to 1e2/λ_min). Returns the ``emergence_analysis`` dict plus
    "times" and "gen_var". Raises ValueError for non-positive eigenvalues after the floor."""
    lam = np.asarray(eigenvalues, dtype=float)
    lm = lam[lam > rel_floor * lam.max()]
    times = np.concatenate([[0.0], np.geomspace(1e-2 / lm.max(), 1e2 / lm.min(), n_times)])
    gv = theory.one_layer_generated_variance(lm[None, :], times[:, None], eta=1.0, q=q, sigma_min=sigma_min,
                                             sigma_max=sigma_max)
    out = emergence_analysis(times, gv, lm, smooth=None, rel_floor=0.0)
    out.update(times=times, gen_var=gv)
    return out


def _jsonable(fits):
    return json.loads(json.dumps(fits, default=float))


def analyze_run(run_dir: str | Path, *, smooth: float = 1.0) -> dict:
    """Analyse a finished run folder: whole-sample modes (and patch modes if measured). Writes
    ``analysis.json`` (fits, summary) and returns {"summary": ..., "modes": analysis dict, "patch": ... or None}.
    Raises FileNotFoundError if the run has no results yet."""
    run_dir = Path(run_dir)
    r = load_results(run_dir)
    a = emergence_analysis(r["times"], r["gen_var"], r["eigenvalues"], smooth=smooth)
    p = None
    if "patch_gen_var" in r:
        p = emergence_analysis(r["times"], r["patch_gen_var"], r["patch_eigenvalues"], smooth=smooth)

    def brief(an):
        return {c: {rule: {b: (None if f is None else {k: f[k] for k in ("alpha", "ci_alpha", "r2", "n")})
                           for b, f in an[c]["fits"][rule].items()} for rule in an[c]["fits"]}
                for c in ("geometric", "harmonic")}

    lin = linear_theory_analysis(r["eigenvalues"])
    summary = dict(name=r["info"]["config"]["name"], final_chi=float(r["chi"][-1]),
                   final_mean_err=float(r["mean_err"][-1]),
                   final_median_ratio=float(np.median(r["gen_var"][-1][a["modes"]] / r["eigenvalues"][a["modes"]])),
                   fits=brief(a), patch_fits=brief(p) if p else None, linear_theory_fits=brief(lin),
                   timings=r["info"]["timings"])
    (run_dir / "analysis.json").write_text(json.dumps(_jsonable(summary), indent=1))
    info = dict(r["info"], analysis=_jsonable(summary))  # results.json also carries the fits
    (run_dir / "results.json").write_text(json.dumps(info, indent=1))
    return dict(summary=_jsonable(summary), modes=a, patch=p, linear=lin, results=r)
