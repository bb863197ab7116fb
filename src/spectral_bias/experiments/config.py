"""Typed experiment configuration: dataclasses, validation with clear errors, loading from a JSON file or a
named preset (package data ``spectral_bias/presets/*.json``)."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..theory.constants import SIGMA_DATA, SIGMA_MAX, SIGMA_MIN

__all__ = [
    "DataConfig",
    "EvalConfig",
    "ExperimentConfig",
    "ModelConfig",
    "TrainConfig",
    "apply_sets",
    "config_from_dict",
    "list_presets",
    "load_config",
    "parse_set",
]

DATASETS = ("gaussian", "mnist", "fashion-mnist", "digits", "patches", "faces", "mnist-1k")
MODEL_KINDS = ("mlp", "cnn")


@dataclass
class DataConfig:
    """Training data. ``gaussian`` uses the rotated log-normal spectrum of App. I.4 (needs ``dim``);
    image names go to ``spectral_bias.data.load`` (resolution, channels)."""

    name: str = "gaussian"
    n_train: int = 10000
    dim: int | None = None
    resolution: int | None = None
    channels: int = 1
    seed: int = 0


@dataclass
class ModelConfig:
    """Denoiser architecture: ``mlp`` = MLP-UNet (nlayers, nhidden, time_embed_dim) or ``cnn`` = conv UNet
    (base_channels, channel_mult, num_blocks, attn_resolutions); always wrapped in EDM preconditioning."""

    kind: str = "mlp"
    nlayers: int = 5
    nhidden: int = 256
    time_embed_dim: int = 256
    dropout: float = 0.0
    base_channels: int = 64
    channel_mult: list = field(default_factory=lambda: [1, 2, 2])
    num_blocks: int = 1
    attn_resolutions: list = field(default_factory=list)
    sigma_data: float = SIGMA_DATA


@dataclass
class TrainConfig:
    """Adam on the EDM loss (ln σ ~ N(P_mean, P_std²)). Checkpoints are written every checkpoint_every steps
    (0: no step-based ones), and in any case at least every 5 minutes, at the end and on SIGINT/SIGTERM.
    bf16: the training forward pass under bfloat16 autocast (for GPUs; the optimiser state, the sampler and the
    measurement stay float32, so only the training noise changes, not what is measured)."""

    steps: int = 5000
    batch_size: int = 1024
    lr: float = 1e-4
    P_mean: float = -1.2
    P_std: float = 1.2
    checkpoint_every: int = 0
    bf16: bool = False


@dataclass
class EvalConfig:
    """Snapshots (log-spaced in the step count, step 0 included), the fixed noise bank and the Heun sampler.
    patch_size > 0 also measures the spectrum of image patches (conv models); extra_patch_sizes measures more
    patch sizes (results keys ``patch{P}_gen_var``, ...) for exponent-vs-patch-size analyses. save_weights also
    writes the model's weights (a plain tensor state dict, ``weights/step_NNNNNNN.pt``) at the shown snapshots, for
    post-hoc analyses of the denoiser itself (local-filter fits, the denoiser grid of chapter 10)."""

    n_snapshots: int = 20
    n_samples: int = 1000
    sampler_steps: int = 20
    sigma_min: float = SIGMA_MIN
    sigma_max: float = SIGMA_MAX
    rho: float = 7.0
    batch_size: int = 1024
    n_show: int = 8
    n_show_snapshots: int = 6
    patch_size: int = 0
    patch_stride: int = 4
    extra_patch_sizes: list = field(default_factory=list)
    save_weights: bool = False


@dataclass
class ExperimentConfig:
    """A whole experiment. ``note`` records where the paper and the authors' code disagree."""

    name: str = "custom"
    description: str = ""
    note: str = ""
    seed: int = 0
    device: str = "auto"
    threads: int = 2
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def validate(self) -> ExperimentConfig:
        """Check every field; raise ValueError naming the field (e.g. ``train.lr``) and what was expected."""
        _validate(self)
        return self


_SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig, "eval": EvalConfig}


def _check_type(path: str, value: Any, default: Any, annotation: str) -> Any:
    if "int | None" in annotation:
        if value is None:
            return None
        annotation = "int"
    if annotation == "int" or (isinstance(default, int) and not isinstance(default, bool) and annotation != "float"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path} must be an integer, got {value!r}")
        return value
    if annotation == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{path} must be finite, got {value!r}")
        return float(value)
    if annotation == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{path} must be true or false, got {value!r}")
        return value
    if annotation == "str":
        if not isinstance(value, str):
            raise ValueError(f"{path} must be a string, got {value!r}")
        return value
    if annotation == "list":
        if not isinstance(value, (list, tuple)) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise ValueError(f"{path} must be a list of integers, got {value!r}")
        return list(value)
    return value


def _build(cls, d: dict, prefix: str):
    if not isinstance(d, dict):
        raise ValueError(f"{prefix or 'config'} must be a mapping, got {type(d).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(prefix + k for k in unknown)}; "
            f"expected some of {', '.join(prefix + k for k in fields)}"
        )
    kwargs = {}
    for k, v in d.items():
        f = fields[k]
        if k in _SECTIONS and cls is ExperimentConfig:
            kwargs[k] = _build(_SECTIONS[k], v, k + ".")
        else:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            kwargs[k] = _check_type(prefix + k, v, default, str(f.type))
    return cls(**kwargs)


def config_from_dict(d: dict) -> ExperimentConfig:
    """Build and validate an ExperimentConfig from a (JSON-like) dict. Raises ValueError naming the field."""
    return _build(ExperimentConfig, d, "").validate()


def _positive(path: str, v, allow_zero: bool = False):
    if v is None or (v < 0 if allow_zero else v <= 0):
        raise ValueError(f"{path} must be {'>= 0' if allow_zero else '> 0'}, got {v!r}")


def _validate(c: ExperimentConfig) -> None:
    """Check a config, section by section in this order (the first problem found is the one reported). Raises
    ValueError naming the field."""
    for check in (
        _check_names,
        _check_data,
        _check_model,
        _check_train,
        _check_eval,
        _check_extra_patch_sizes,
        _check_applicable,
        _check_patch_size,
    ):
        check(c)


def _check_names(c: ExperimentConfig) -> None:
    """data.name, model.kind and device are known; threads > 0."""
    if c.data.name not in DATASETS:
        raise ValueError(f"data.name must be one of {DATASETS}, got {c.data.name!r}")
    if c.model.kind not in MODEL_KINDS:
        raise ValueError(f"model.kind must be one of {MODEL_KINDS}, got {c.model.kind!r}")
    if not (
        c.device in ("auto", "cpu", "mps")
        or c.device == "cuda"
        or (c.device.startswith("cuda:") and c.device[5:].isdigit())
    ):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda[:i]' or 'mps', got {c.device!r}")
    _positive("threads", c.threads)


def _check_data(c: ExperimentConfig) -> None:
    """The data section: sizes, and Gaussian data (vectors of data.dim >= 2) only with an MLP."""
    d = c.data
    _positive("data.n_train", d.n_train)
    if d.name == "gaussian":
        if d.dim is None or d.dim < 2:
            raise ValueError(f"data.dim must be an integer >= 2 for data.name='gaussian', got {d.dim!r}")
        if c.model.kind != "mlp":
            raise ValueError("model.kind must be 'mlp' for data.name='gaussian' (vectors, not images)")
    if d.channels not in (1, 3):
        raise ValueError(f"data.channels must be 1 or 3, got {d.channels!r}")
    if d.resolution is not None:
        _positive("data.resolution", d.resolution)


def _check_model(c: ExperimentConfig) -> None:
    """The model section: positive sizes, an even time embedding, dropout in [0, 1), and for a conv UNet an image
    resolution that every downsampling level halves exactly."""
    m = c.model
    for k in ("nlayers", "nhidden", "time_embed_dim", "base_channels", "num_blocks"):
        _positive("model." + k, getattr(m, k))
    if m.time_embed_dim % 2:
        raise ValueError(f"model.time_embed_dim must be even, got {m.time_embed_dim}")
    if not 0 <= m.dropout < 1:
        raise ValueError(f"model.dropout must be in [0, 1), got {m.dropout}")
    if not m.channel_mult or any(x < 1 for x in m.channel_mult):
        raise ValueError(f"model.channel_mult must be a non-empty list of positive integers, got {m.channel_mult}")
    _positive("model.sigma_data", m.sigma_data)
    if m.kind == "cnn":
        res = c.data.resolution
        if res is None:
            raise ValueError("data.resolution must be set for model.kind='cnn'")
        if res % 2 ** (len(m.channel_mult) - 1):
            raise ValueError(f"data.resolution={res} must be divisible by 2**(len(model.channel_mult)-1)")


def _check_train(c: ExperimentConfig) -> None:
    """The train section: positive steps, batch size, learning rate and P_std; checkpoint_every >= 0."""
    for k in ("steps", "batch_size", "lr", "P_std"):
        _positive("train." + k, getattr(c.train, k))
    _positive("train.checkpoint_every", c.train.checkpoint_every, allow_zero=True)


def _check_eval(c: ExperimentConfig) -> None:
    """The eval section: at least 2 snapshots, samples and sampler steps, 0 < sigma_min < sigma_max, and no more
    shown samples than drawn."""
    e = c.eval
    for k in ("n_snapshots", "n_samples", "sampler_steps"):
        if getattr(e, k) < 2:
            raise ValueError(f"eval.{k} must be >= 2, got {getattr(e, k)}")
    _positive("eval.sigma_min", e.sigma_min)
    if e.sigma_min >= e.sigma_max:
        raise ValueError(f"eval.sigma_min must be < eval.sigma_max, got {e.sigma_min} >= {e.sigma_max}")
    for k in ("rho", "batch_size", "patch_stride"):
        _positive("eval." + k, getattr(e, k))
    for k in ("n_show", "n_show_snapshots", "patch_size"):
        _positive("eval." + k, getattr(e, k), allow_zero=True)
    if e.n_show > e.n_samples:
        raise ValueError(f"eval.n_show must be <= eval.n_samples, got {e.n_show} > {e.n_samples}")


def _check_extra_patch_sizes(c: ExperimentConfig) -> None:
    """eval.extra_patch_sizes: positive, no larger than the images, and only for image data."""
    d = c.data
    for size in c.eval.extra_patch_sizes:
        _positive("eval.extra_patch_sizes[]", size)
        if d.name == "gaussian":
            raise ValueError("eval.extra_patch_sizes must be empty for data.name='gaussian' (no image patches)")
        if d.resolution is not None and size > d.resolution:
            raise ValueError(f"eval.extra_patch_sizes must be <= data.resolution, got {size} > {d.resolution}")


def _check_patch_size(c: ExperimentConfig) -> None:
    """eval.patch_size: 0 for Gaussian data, and no larger than the images."""
    d, size = c.data, c.eval.patch_size
    if size:
        if d.name == "gaussian":
            raise ValueError("eval.patch_size must be 0 for data.name='gaussian' (no image patches)")
        if d.resolution is not None and size > d.resolution:
            raise ValueError(f"eval.patch_size must be <= data.resolution, got {size} > {d.resolution}")


def _check_applicable(c: ExperimentConfig) -> None:
    """A field that the run would ignore must keep its default: a changed value there would silently do nothing
    (e.g. data.channels for Gaussian data). Raises ValueError naming the fields."""
    d, m = c.data, c.model
    ignored = []
    if d.name == "gaussian":
        ignored += [("data", d, k, "data.name='gaussian'") for k in ("resolution", "channels")]
    else:
        ignored += [("data", d, "dim", f"data.name={d.name!r}")]
    if m.kind == "mlp":
        ignored += [
            ("model", m, k, "model.kind='mlp'")
            for k in ("base_channels", "channel_mult", "num_blocks", "attn_resolutions")
        ]
    else:
        ignored += [("model", m, k, "model.kind='cnn'") for k in ("nlayers", "nhidden")]
    if not c.eval.patch_size and not c.eval.extra_patch_sizes:
        ignored += [("eval", c.eval, "patch_stride", "eval.patch_size=0 and no extra_patch_sizes")]
    bad = []
    for section, obj, k, why in ignored:
        f = next(f for f in dataclasses.fields(obj) if f.name == k)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if getattr(obj, k) != default:
            bad.append(f"{section}.{k}={getattr(obj, k)!r} (unused with {why})")
    if bad:
        raise ValueError(f"field(s) that do not apply to this run: {', '.join(bad)}; remove them")


def parse_set(item: str) -> tuple[str, Any]:
    """Parse a dotted override ``"train.steps=2000"`` into ``("train.steps", 2000)``: the value is read as JSON
    (numbers, true/false, null, lists), else taken as a string. Raises ValueError without ``=`` or a key."""
    if not isinstance(item, str) or "=" not in item:
        raise ValueError(f"--set expects KEY=VALUE (e.g. train.steps=2000), got {item!r}")
    key, _, raw = item.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ValueError(f"--set expects a dotted key such as train.steps, got {key!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def apply_sets(d: dict, sets) -> dict:
    """Apply dotted overrides (strings ``"a.b=v"`` or (key, value) pairs) to a config dict (a copy is returned).
    Only sections (data, model, train, eval) may be descended into; field names are checked by config_from_dict.
    Raises ValueError naming the key."""
    d = json.loads(json.dumps(d))
    for item in sets or ():
        key, value = parse_set(item) if isinstance(item, str) else item
        parts = key.split(".")
        if len(parts) > 2 or (len(parts) == 2 and parts[0] not in _SECTIONS):
            raise ValueError(
                f"--set key {key!r}: expected FIELD or SECTION.FIELD with SECTION one of {', '.join(_SECTIONS)}"
            )
        target = d
        if len(parts) == 2:
            target = d.setdefault(parts[0], {})
            if not isinstance(target, dict):
                raise ValueError(f"--set key {key!r}: {parts[0]} is not a mapping in this config")
        elif parts[0] in _SECTIONS:
            raise ValueError(f"--set key {key!r} names a whole section; set one field, e.g. {key}.steps=...")
        target[parts[-1]] = value
    return d


def _preset_dir():
    return resources.files("spectral_bias") / "presets"


def list_presets() -> list[str]:
    """Names of the bundled presets: ``cpu-*`` run live in a chapter (under a minute on 2 cores), ``mid-*`` are the
    largest image runs for a 2-core CPU, ``paper-*`` follow the paper's configuration (any device)."""
    return sorted(p.name[:-5] for p in _preset_dir().iterdir() if p.name.endswith(".json"))


def load_config(name_or_path: str | Path, *, sets=None, **overrides) -> ExperimentConfig:
    """Load a preset by name (see ``list_presets()``) or a JSON file path, apply top-level ``overrides``
    (e.g. device="cuda"; None values are ignored) and dotted ``sets`` (``["train.steps=2000"]``, see apply_sets)
    and validate. Raises ValueError for an unknown preset, a missing, unreadable or non-object JSON file, or a bad
    field (naming it)."""
    p = Path(name_or_path)
    if p.suffix == ".json" or p.is_file():
        if not p.is_file():
            raise ValueError(f"config file {str(p)!r} does not exist")
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise ValueError(f"config file {str(p)!r} is not valid JSON ({err})") from None
        if not isinstance(d, dict):
            raise ValueError(f"config file {str(p)!r} must hold a JSON object {{...}}, got a JSON {type(d).__name__}")
    else:
        names = list_presets()
        if str(name_or_path) not in names:
            raise ValueError(f"unknown preset {str(name_or_path)!r}; available presets: {', '.join(names)}")
        d = json.loads((_preset_dir() / f"{name_or_path}.json").read_text())
    d.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(apply_sets(d, sets))
