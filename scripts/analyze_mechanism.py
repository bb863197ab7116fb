"""Post-hoc analyses of saved weight snapshots (chapter 10): local linear filter fits (Fig. 14) and the denoiser
grid over training step x noise level (Fig. 15), written next to a run's committed results.

    python scripts/analyze_mechanism.py PRESET [PRESET ...] [--seed 0]

Reads ``runs/<preset>/seed<k>/`` (its results.json and weights/, produced by scripts/run_results.py with
eval.save_weights) and writes ``data/results/<preset>/seed<k>/mechanism.npz`` and ``mechanism.json`` (the command,
the settings, and the R² tables).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIGMAS = (0.05, 0.2, 0.5, 1.0, 2.0)
PATCHES = (1, 3, 5, 7, 9)
N_IMAGES = 200


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("presets", nargs="+")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=str(ROOT), help="folder holding runs/ and data/results/ (default: the checkout)")
    args = p.parse_args(argv)
    root = Path(args.root)
    from spectral_bias.experiments import load_config
    from spectral_bias.experiments.datasets import load_training_data
    from spectral_bias.experiments.mechanism import denoiser_grid, load_snapshot_model, local_filter_fit, saved_steps

    for name in args.presets:
        run = root / "runs" / name / f"seed{args.seed}"
        dest = root / "data" / "results" / name / f"seed{args.seed}"
        cfg = load_config(name)
        x, _ = load_training_data(cfg.data)
        x = np.asarray(x[:N_IMAGES]).reshape(
            (-1,) + tuple(json.loads((run / "results.json").read_text())["image_shape"])
        )
        steps = saved_steps(run)
        r2 = np.zeros((len(steps), len(SIGMAS), len(PATCHES)))
        r2_learned = np.zeros_like(r2)
        for i, st in enumerate(steps):
            model, info = load_snapshot_model(run, st)
            flat = cfg.model.kind == "mlp"
            for j, s in enumerate(SIGMAS):
                f = local_filter_fit(model, x, s, PATCHES, image_shape=x.shape[1:] if flat else None)
                r2[i, j] = [f["r2"][P] for P in PATCHES]
                r2_learned[i, j] = [f["r2_learned"][P] for P in PATCHES]
            print(
                f"{name} step {st}: R2 learned part at sigma=0.5: {dict(zip(PATCHES, np.round(r2_learned[i, 2], 3)))}",
                flush=True,
            )
        grid = denoiser_grid(run, x[0], SIGMAS)
        dest.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            dest / "mechanism.npz",
            steps=np.array(steps),
            sigmas=np.array(SIGMAS),
            patch_sizes=np.array(PATCHES),
            r2=r2,
            r2_learned=r2_learned,
            grid_steps=grid["steps"],
            grid_noisy=grid["noisy"],
            grid_denoised=grid["denoised"],
            grid_clean=x[0],
        )
        (dest / "mechanism.json").write_text(
            json.dumps(
                dict(
                    command=f"python scripts/analyze_mechanism.py {name} --seed {args.seed}",
                    argv=shlex.join(sys.argv),
                    n_images=N_IMAGES,
                    sigmas=SIGMAS,
                    patch_sizes=PATCHES,
                    steps=steps,
                ),
                indent=1,
            )
        )
        print(f"{name}: wrote {dest}/mechanism.npz", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
