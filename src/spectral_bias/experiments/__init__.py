"""Experiments with neural denoisers (torch): typed configs and presets, training loop with log-spaced
snapshots, streaming spectral measurement, atomic checkpoints with exact resume, analysis, command line
(``python -m spectral_bias.experiments``)."""
from .analysis import analyze_run, emergence_analysis, linear_theory_analysis
from .checkpoint import load_checkpoint, save_checkpoint
from .config import (DataConfig, EvalConfig, ExperimentConfig, ModelConfig, TrainConfig, config_from_dict,
                     list_presets, load_config)
from .datasets import DataSpectrum, empirical_spectrum, load_training_data, rotated_gaussian
from .measure import SpectralAccumulator, extract_patches, measure_samples
from .train import build_model, load_results, run_experiment, snapshot_steps

__all__ = [
    "ExperimentConfig", "DataConfig", "ModelConfig", "TrainConfig", "EvalConfig", "config_from_dict",
    "load_config", "list_presets", "rotated_gaussian", "empirical_spectrum", "load_training_data", "DataSpectrum",
    "SpectralAccumulator", "measure_samples", "extract_patches", "save_checkpoint", "load_checkpoint",
    "snapshot_steps", "build_model", "run_experiment", "load_results", "emergence_analysis", "linear_theory_analysis", "analyze_run",
]
