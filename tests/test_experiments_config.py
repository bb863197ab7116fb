"""Configs and presets: every preset validates; bad values and unknown names give ValueErrors naming the field."""

import json

import pytest

from spectral_bias.experiments import config_from_dict, list_presets, load_config

TINY = {
    "name": "tiny",
    "data": {"name": "gaussian", "dim": 4, "n_train": 64},
    "model": {"kind": "mlp", "nlayers": 1, "nhidden": 8, "time_embed_dim": 4},
    "train": {"steps": 5, "batch_size": 8},
    "eval": {"n_snapshots": 3, "n_samples": 8, "sampler_steps": 3},
}


def test_presets_exist_and_validate():
    names = list_presets()
    for required in (
        "cpu-gaussian-mlp",
        "cpu-mnist-mlp",
        "cpu-patches-mlp",
        "cpu-patches-cnn-narrow",
        "cpu-patches-cnn-wide",
        "paper-gaussian128-mlp",
        "paper-gaussian256-mlp",
        "paper-gaussian512-mlp",
        "paper-mnist-mlp",
        "paper-patches-mlp",
        "paper-fashion-mnist-mlp",
        "paper-mnist32-cnn",
        "paper-patches-cnn-wide",
        "paper-patches-cnn-narrow",
    ):
        assert required in names
    for n in names:
        cfg = load_config(n)
        assert cfg.name == n and cfg.description
        assert cfg.device == ("cpu" if n.startswith("cpu-") else "auto")


def test_paper_presets_carry_paper_hyperparameters_and_notes():
    g = load_config("paper-gaussian256-mlp")
    assert (g.data.dim, g.model.nlayers, g.model.nhidden, g.model.time_embed_dim) == (256, 5, 256, 256)
    assert (g.train.lr, g.train.steps, g.train.batch_size, g.eval.sampler_steps) == (1e-4, 5000, 1024, 20)
    m = load_config("paper-mnist-mlp")
    assert (m.model.nlayers, m.model.nhidden, m.model.time_embed_dim, m.data.resolution) == (8, 1024, 128, 28)
    assert "2048" in m.note and "256" in m.note and "40" in m.note and "32x32" in m.note
    c = load_config("paper-mnist32-cnn")
    assert (c.model.base_channels, c.model.channel_mult, c.train.batch_size) == (16, [1, 2, 3, 4], 2048)
    assert (
        load_config("paper-patches-cnn-narrow").model.base_channels
        < load_config("paper-patches-cnn-wide").model.base_channels
    )


def test_overrides_and_file(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(TINY))
    cfg = load_config(str(p), device="cuda:1", threads=3)
    assert cfg.device == "cuda:1" and cfg.threads == 3 and cfg.data.dim == 4


def test_unknown_preset_and_missing_file():
    with pytest.raises(ValueError, match="unknown preset 'nope'.*cpu-gaussian-mlp"):
        load_config("nope")
    with pytest.raises(ValueError, match="does not exist"):
        load_config("/nonexistent/x.json")


def _bad(path, value):
    d = json.loads(json.dumps(TINY))
    section, _, key = path.rpartition(".")
    (d.setdefault(section, {}) if section else d)[key] = value
    return d


@pytest.mark.parametrize(
    "path,value,msg",
    [
        ("train.lr", -1.0, "train.lr"),
        ("train.lr", float("nan"), "train.lr"),
        ("train.steps", 0, "train.steps"),
        ("train.steps", 2.5, "train.steps"),
        ("train.batch_size", True, "train.batch_size"),
        ("train.P_std", 0.0, "train.P_std"),
        ("train.optimizer", "sgd", "train.optimizer"),
        ("data.name", "cifar10", "data.name"),
        ("data.dim", None, "data.dim"),
        ("data.channels", 2, "data.channels"),
        ("model.kind", "transformer", "model.kind"),
        ("model.time_embed_dim", 5, "model.time_embed_dim"),
        ("model.dropout", 1.5, "model.dropout"),
        ("model.channel_mult", [1, "a"], "model.channel_mult"),
        ("eval.sigma_min", 100.0, "eval.sigma_min"),
        ("eval.n_snapshots", 1, "eval.n_snapshots"),
        ("eval.n_show", 100, "eval.n_show"),
        ("eval.patch_size", 4, "eval.patch_size"),
        ("device", "tpu", "device"),
        ("bogus", 1, "bogus"),
    ],
)
def test_bad_fields_name_the_field(path, value, msg):
    with pytest.raises(ValueError, match=msg.replace(".", r"\.")):
        config_from_dict(_bad(path, value))


def test_cnn_needs_resolution_and_gaussian_needs_mlp():
    d = _bad("model.kind", "cnn")
    with pytest.raises(ValueError, match="model.kind"):
        config_from_dict(d)
    d = {"data": {"name": "patches"}, "model": {"kind": "cnn"}}
    with pytest.raises(ValueError, match="data.resolution"):
        config_from_dict(d)
    d = {"data": {"name": "patches", "resolution": 10}, "model": {"kind": "cnn", "channel_mult": [1, 2, 2]}}
    with pytest.raises(ValueError, match="divisible"):
        config_from_dict(d)


def test_noise_range_and_data_scale_defaults_are_the_protocol_constants():
    import inspect

    from spectral_bias import theory
    from spectral_bias.experiments import EvalConfig, ModelConfig, linear_theory_analysis

    assert (EvalConfig().sigma_min, EvalConfig().sigma_max) == (theory.SIGMA_MIN, theory.SIGMA_MAX) == (0.002, 80.0)
    assert ModelConfig().sigma_data == theory.SIGMA_DATA == 0.5
    params = inspect.signature(linear_theory_analysis).parameters
    assert params["sigma_min"].default == theory.SIGMA_MIN and params["sigma_max"].default == theory.SIGMA_MAX
    assert params["sigma_data"].default == theory.SIGMA_DATA
    # a config without the fields resolves to them
    resolved = config_from_dict(TINY).to_dict()
    assert (resolved["eval"]["sigma_min"], resolved["eval"]["sigma_max"], resolved["model"]["sigma_data"]) == (
        0.002,
        80.0,
        0.5,
    )
