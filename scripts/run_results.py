"""Run presets and commit-ready results: the command behind every file under ``data/results/``.

    python scripts/run_results.py PRESET [PRESET ...] [--seeds 0 1 2] [--threads 2]

Each (preset, seed) trains in ``runs/<preset>/seed<k>/`` (git-ignored; checkpointed, so a killed run resumes
where it stopped when the same command is run again), then its ``results.npz``, ``results.json`` and
``analysis.json`` are copied to ``data/results/<preset>/seed<k>/``. A (preset, seed) whose results are already
in ``data/results`` is skipped, so the command is idempotent. ``--reanalyze`` only recomputes the analysis of
committed results (the fits and both null models), e.g. after the analysis code changed.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("presets", nargs="+")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--reanalyze",
        action="store_true",
        help="only recompute analysis.json of the committed results (after the analysis code changed)",
    )
    args = p.parse_args(argv)
    from spectral_bias.experiments import load_config
    from spectral_bias.experiments.analysis import analyze_run
    from spectral_bias.experiments.train import CKPT_NAME, run_experiment

    for name in args.presets:
        for seed in args.seeds:
            dest = ROOT / "data" / "results" / name / f"seed{seed}"
            if args.reanalyze:
                if (dest / "results.json").is_file():
                    analyze_run(dest)
                    print(f"{name} seed {seed}: analysis refreshed in {dest.relative_to(ROOT)}", flush=True)
                continue
            if (dest / "results.json").is_file():
                print(f"{name} seed {seed}: already in {dest.relative_to(ROOT)}", flush=True)
                continue
            cfg = load_config(name, threads=args.threads)
            cfg.seed = seed
            cfg.validate()
            run = ROOT / "runs" / name / f"seed{seed}"
            resume = (run / CKPT_NAME).is_file() and not (run / "results.json").is_file()
            cmd = f"python scripts/run_results.py {name} --seeds {seed} --threads {args.threads}"
            if not (run / "results.json").is_file():
                run_experiment(cfg, run, resume=resume, progress=False, command=cmd)
            analyze_run(run)
            dest.mkdir(parents=True, exist_ok=True)
            for f in ("results.npz", "results.json", "analysis.json"):
                shutil.copy2(run / f, dest / f)
            print(f"{name} seed {seed}: done -> {dest.relative_to(ROOT)}  ({shlex.join(sys.argv)})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
