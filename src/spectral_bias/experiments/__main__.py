"""Command line: ``spectral-bias`` (console script) = ``python -m spectral_bias.experiments``.

  run PRESET_OR_FILE [--set KEY=VALUE ...] [--device DEV] [--threads N] [--out DIR] [--resume | --overwrite]
      [--stop-after N] [--no-progress]
  analyze RUN_DIR
  show PRESET_OR_FILE [--set KEY=VALUE ...]     the resolved config as JSON
  list
  --version

A user mistake (bad config or override, unknown preset, missing or used folder, missing, corrupted or mismatched
checkpoint, unavailable device, full disk, unfinished run) prints one line ``error: ...`` on stderr and exits with
status 2; a run stopped by SIGINT/SIGTERM writes a checkpoint and exits with 130/143; a diverged run exits with 1.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import zipfile
from pathlib import Path

from .analysis import format_summary

PROG = "spectral-bias"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus the usage hint) and exit status 2, as argparse does."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = _Parser(
        prog=PROG,
        description="Train neural denoisers and measure their generated spectra "
        "(same as python -m spectral_bias.experiments).",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    setk = dict(
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, e.g. --set train.steps=2000 (repeatable; value read as JSON, else string)",
    )
    r = sub.add_parser("run", help="train + measure a preset or a JSON config file")
    r.add_argument("config", help="preset name (see `list`) or path to a JSON config")
    r.add_argument("--set", dest="sets", **setk)
    r.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:1, mps (overrides the config)")
    r.add_argument("--threads", type=int, default=None, help="torch CPU threads (overrides the config)")
    r.add_argument("--out", default=None, help="output folder (default runs/<name>)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt (same config)")
    g.add_argument("--overwrite", action="store_true", help="replace a run already in OUT")
    r.add_argument("--stop-after", type=int, default=None, help="save a checkpoint and stop after N steps")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    a = sub.add_parser("analyze", help="emergence times and power-law fits of a finished run")
    a.add_argument("run_dir")
    s = sub.add_parser("show", help="print the resolved config (preset or file, with --set) as JSON")
    s.add_argument("config", help="preset name (see `list`) or path to a JSON config")
    s.add_argument("--set", dest="sets", **setk)
    sub.add_parser("list", help="list the bundled presets")
    return p


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, OSError) and err.filename and str(err.filename) not in text:
        text += f": {err.filename}"
    return text


def _check_finished(run_dir: Path) -> None:
    """Raise FileNotFoundError with the next command to run if run_dir holds no finished run."""
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder {run_dir}")
    missing = [f for f in ("results.npz", "results.json") if not (run_dir / f).is_file()]
    if missing and (run_dir / "checkpoint.pt").is_file():
        raise FileNotFoundError(
            f"{run_dir} holds an unfinished run (a checkpoint, no results); finish it with "
            f"`{PROG} run CONFIG --out {run_dir} --resume`"
        )
    if missing:
        raise FileNotFoundError(
            f"{run_dir} holds no run results ({', '.join(missing)} missing); "
            f"run `{PROG} run CONFIG --out {run_dir}` first"
        )


def _list(args) -> int:
    from .config import list_presets, load_config

    for name in list_presets():
        print(f"{name:28s} {load_config(name).description}")
    return 0


def _show(args) -> int:
    from .config import load_config

    print(json.dumps(load_config(args.config, sets=args.sets).to_dict(), indent=1))
    return 0


def _analyze(args) -> int:
    from .analysis import analyze_run

    _check_finished(Path(args.run_dir))
    print(format_summary(analyze_run(args.run_dir)["summary"]))
    return 0


def _run(args) -> int:
    """Train and measure (or resume), then print the analysis; a signal exits with 128 + its number, a diverged
    run with 1, a stop after --stop-after N steps with 0."""
    from .analysis import analyze_run
    from .config import load_config
    from .train import RunInterrupted, TrainingDiverged, run_experiment

    cfg = load_config(args.config, sets=args.sets, device=args.device, threads=args.threads)
    out = Path(args.out or Path("runs") / cfg.name)
    try:
        res = run_experiment(
            cfg,
            out,
            resume=args.resume,
            overwrite=args.overwrite,
            stop_after=args.stop_after,
            progress=not args.no_progress,
        )
    except RunInterrupted as err:
        print(f"stopped: {err}", file=sys.stderr)
        return 128 + err.signum
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if res is None:
        print(f"stopped after {args.stop_after} steps; checkpoint in {out}; continue with --resume")
        return 0
    summary = analyze_run(out)
    print(format_summary(summary["summary"]))
    print(f"results in {out}/results.npz and results.json")
    return 0


_COMMANDS = {"list": _list, "show": _show, "analyze": _analyze, "run": _run}


def main(argv=None) -> int:
    """Entry point of ``spectral-bias`` and ``python -m spectral_bias.experiments``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.cmd](args)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        # user mistakes and the environment (missing files, full disk): one line, no traceback
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside the training loop (setup, analysis)
        print("interrupted", file=sys.stderr)
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
