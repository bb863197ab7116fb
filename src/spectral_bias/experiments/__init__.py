"""Experiments with neural denoisers (torch): typed configs and presets, training loop with log-spaced
snapshots, streaming spectral measurement, atomic checkpoints with exact resume, analysis, command line
(``python -m spectral_bias.experiments``)."""

from .analysis import analyze_run, emergence_analysis, format_summary, linear_theory_analysis
from .checkpoint import load_checkpoint, save_checkpoint
from .config import (
    DataConfig,
    EvalConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    config_from_dict,
    list_presets,
    load_config,
)
from .datasets import DataSpectrum, empirical_spectrum, load_training_data, rotated_gaussian
from .measure import SpectralAccumulator, extract_patches, measure_samples
from .train import build_model, load_results, run_experiment, snapshot_steps

__all__ = [
    "DataConfig",
    "DataSpectrum",
    "EvalConfig",
    "ExperimentConfig",
    "ModelConfig",
    "SpectralAccumulator",
    "TrainConfig",
    "analyze_run",
    "build_model",
    "config_from_dict",
    "emergence_analysis",
    "empirical_spectrum",
    "extract_patches",
    "format_summary",
    "linear_theory_analysis",
    "list_presets",
    "load_checkpoint",
    "load_config",
    "load_results",
    "load_training_data",
    "measure_samples",
    "rotated_gaussian",
    "run_experiment",
    "save_checkpoint",
    "snapshot_steps",
]
