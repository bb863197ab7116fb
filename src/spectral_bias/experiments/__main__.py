"""Command line: ``python -m spectral_bias.experiments {run,analyze,list}``.

  run PRESET_OR_FILE [--device DEV] [--out DIR] [--resume] [--stop-after N] [--no-progress]
  analyze RUN_DIR
  list
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def format_summary(summary: dict) -> str:
    """A compact, human-readable table of an analysis summary."""
    lines = [f"run {summary['name']}: final alignment chi = {summary['final_chi']:.3f}, "
             f"mean error = {summary['final_mean_err']:.3g}, median gen_var/lambda = {summary['final_median_ratio']:.3f}"]
    for label, fits in (("modes", summary["fits"]), ("patch modes", summary.get("patch_fits")),
                        ("linear thy", summary.get("linear_theory_fits"))):
        if not fits:
            continue
        for crit, rules in fits.items():
            for rule, branches in rules.items():
                for b, f in branches.items():
                    txt = "too few modes" if f is None else (
                        f"alpha = {f['alpha']:.2f}  95% CI [{f['ci_alpha'][0]:.2f}, {f['ci_alpha'][1]:.2f}]  "
                        f"R2 = {f['r2']:.2f}  N = {f['n']}")
                    lines.append(f"  {label:11s} {crit:9s} {rule:9s} {b:10s} {txt}")
    t = summary["timings"]
    lines.append(f"  timings: setup {t['setup_s']:.1f} s, train {t['train_s']:.1f} s, measure {t['measure_s']:.1f} s")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m spectral_bias.experiments",
                                description="Train neural denoisers and measure their generated spectra.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train + measure a preset or a JSON config file")
    r.add_argument("config", help="preset name (see `list`) or path to a JSON config")
    r.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (overrides the config)")
    r.add_argument("--threads", type=int, default=None, help="torch CPU threads (overrides the config)")
    r.add_argument("--out", default=None, help="output folder (default runs/<name>)")
    r.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    r.add_argument("--stop-after", type=int, default=None, help="save a checkpoint and stop after N steps")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    a = sub.add_parser("analyze", help="emergence times and power-law fits of a finished run")
    a.add_argument("run_dir")
    sub.add_parser("list", help="list the bundled presets")
    args = p.parse_args(argv)

    from .config import list_presets, load_config

    if args.cmd == "list":
        for name in list_presets():
            cfg = load_config(name)
            print(f"{name:28s} {cfg.description}")
        return 0
    if args.cmd == "run":
        from .analysis import analyze_run
        from .train import run_experiment

        try:
            cfg = load_config(args.config, device=args.device, threads=args.threads)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        out = Path(args.out or Path("runs") / cfg.name)
        res = run_experiment(cfg, out, resume=args.resume, stop_after=args.stop_after,
                             progress=not args.no_progress)
        if res is None:
            print(f"stopped after {args.stop_after} steps; checkpoint in {out}; continue with --resume")
            return 0
        summary = analyze_run(out)
        print(format_summary(summary["summary"]))
        print(f"results in {out}/results.npz and results.json")
        return 0
    if args.cmd == "analyze":
        from .analysis import analyze_run

        summary = analyze_run(args.run_dir)
        print(format_summary(summary["summary"]))
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
