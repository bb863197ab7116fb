"""The named steps of a run, each on its own: restore (a fresh start at step 0, seeded; a resume that refuses a
changed config), train (chunks of steps equal one go; stops when asked), measure (keys, shapes, and values
against numpy's covariance of the same samples, whole samples and patches cut by hand), checkpoint (a round trip
restores a bit-identical state that trains on bit-identically) and write (files that read back, atomically)."""

import dataclasses
import errno

import numpy as np
import pytest
import torch

from spectral_bias.experiments import config_from_dict, empirical_spectrum, load_results
from spectral_bias.experiments import train as train_mod
from spectral_bias.experiments.train import (
    RunExistsError,
    measure_snapshot,
    open_run_folder,
    prepare_setup,
    record_snapshot,
    restore_state,
    train_steps,
    write_checkpoint,
    write_results,
)
from spectral_bias.nets import heun_sample

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def cfg(tiny_run):
    """The shared tiny run as a config; ``cfg(lr=...)`` replaces fields of its train section."""
    return lambda **train: config_from_dict(tiny_run(train=train))


@pytest.fixture(scope="module")
def setup(cfg):
    return prepare_setup(cfg(), CPU)


def params(state):
    return {k: v.clone() for k, v in state.model.state_dict().items()}


def assert_same_params(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def leftovers(folder):
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


# --- restore ---


def test_fresh_restore_is_step_zero_and_seeded(tmp_path, setup, cfg):
    assert open_run_folder(tmp_path, cfg(), resume=False, overwrite=False) is None
    a, b = restore_state(cfg(), setup), restore_state(cfg(), setup)
    assert a.step == 0 and a.measurements == {} and a.t_train == 0.0 and a.t_meas == 0.0
    assert a.losses.shape == (30,) and a.losses.dtype == np.float32 and not a.losses.any()
    assert a.model.training and not a.measured(0)
    assert_same_params(params(a), params(b))  # seeded by cfg.seed: two fresh starts are the same model
    other = cfg()
    other.seed = 1
    p_other = params(restore_state(other, setup))
    assert any(not torch.equal(p_other[k], v) for k, v in params(a).items())


def test_resume_refuses_a_changed_config_or_a_missing_checkpoint(tmp_path, setup, cfg):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*without --resume"):
        open_run_folder(tmp_path, cfg(), resume=True, overwrite=False)
    write_checkpoint(tmp_path / "checkpoint.pt", restore_state(cfg(), setup), cfg())
    with pytest.raises(ValueError, match=r"different config: train\.lr: 0\.003 in the checkpoint, 0\.001 now"):
        open_run_folder(tmp_path, cfg(lr=1e-3), resume=True, overwrite=False)
    with pytest.raises(RunExistsError, match="already holds a run"):
        open_run_folder(tmp_path, cfg(), resume=False, overwrite=False)
    c = cfg()
    c.threads, c.note = 2, "resumed elsewhere"  # how it runs may change
    ck = open_run_folder(tmp_path, c, resume=True, overwrite=False)
    assert ck["step"] == 0 and ck["config"]["train"]["lr"] == 3e-3
    # a checkpoint of another model does not fit: refused naming the file
    wide = cfg()
    wide.model.nhidden = 32
    with pytest.raises(train_mod.CheckpointError, match="does not fit this run"):
        restore_state(wide, setup, ck, source=tmp_path / "checkpoint.pt")
    assert open_run_folder(tmp_path, cfg(), resume=False, overwrite=True) is None
    assert not (tmp_path / "checkpoint.pt").exists()


# --- train ---


def test_training_in_chunks_equals_training_in_one_go(setup, cfg):
    c = cfg()
    one = restore_state(c, setup)
    assert train_steps(one, setup, c, 12)[0] == 12
    p_one, l_one = params(one), one.losses.copy()
    chunked = restore_state(c, setup)  # reseeds torch: the same start
    n1, s1 = train_steps(chunked, setup, c, 5)
    n2, s2 = train_steps(chunked, setup, c, 12)
    assert (n1, n2) == (5, 7) and s1 > 0 and s2 > 0 and chunked.step == 12
    assert_same_params(p_one, params(chunked))
    np.testing.assert_array_equal(l_one, chunked.losses)
    assert np.all(l_one[:12] > 0) and not l_one[12:].any()
    assert chunked.t_train == pytest.approx(s1 + s2)


def test_training_stops_when_asked_and_counts_the_bar(setup, cfg):
    c = cfg()
    state = restore_state(c, setup)

    class Bar:
        n = 0

        def step(self):
            self.n += 1

    bar, asked = Bar(), []
    n, _ = train_steps(state, setup, c, 20, stop=lambda: asked.append(state.step) or state.step == 3, bar=bar)
    assert n == 3 and state.step == 3 and bar.n == 3 and asked == [1, 2, 3]  # checked after every step
    assert train_steps(state, setup, c, 3) == (0, 0.0)  # already there: nothing to do


# --- measure ---


def _spectral_summary(samples, spec):
    """gen_var, mean error and χ from numpy's covariance (divisor n − 1) of the samples."""
    x = samples.reshape(len(samples), -1).astype(np.float64)
    C = np.atleast_2d(np.cov(x, rowvar=False))
    U = spec.eigenvectors
    gen_var = np.diag(U.T @ C @ U)
    return gen_var, float(np.sum((x.mean(0) - spec.mean) ** 2)), float(np.sum(gen_var**2) / np.sum(C * C))


def test_measure_returns_the_keys_shapes_and_values_of_the_samples(setup, cfg):
    c = cfg()
    state = restore_state(c, setup)
    train_steps(state, setup, c, 4)
    r = measure_snapshot(state.model, setup, c, n_keep=3, step=4)
    assert set(r) == {"gen_var", "gen_mean", "mean_err", "frob2", "chi", "n", "samples"}
    assert r["gen_var"].shape == (6,) and r["gen_mean"].shape == (6,) and r["n"] == 50
    assert r["samples"].shape == (3, 6) and state.model.training
    state.model.eval()
    with torch.no_grad():
        x = heun_sample(state.model, setup.noise, setup.sigmas).numpy()  # the whole bank in one batch
    gen_var, mean_err, chi = _spectral_summary(x, setup.spectrum)
    np.testing.assert_allclose(r["gen_var"], gen_var, rtol=1e-5)
    assert r["mean_err"] == pytest.approx(mean_err, rel=1e-5) and r["chi"] == pytest.approx(chi, rel=1e-5)
    np.testing.assert_allclose(r["samples"], x[:3], rtol=1e-5, atol=1e-6)
    assert measure_snapshot(state.model, setup, c, n_keep=0)["samples"] is None


def test_measure_of_patches_against_patches_cut_by_hand(setup, cfg):
    c = cfg()
    c.eval.patch_size, c.eval.patch_stride = 2, 1  # samples seen as 1×2×3 images: 2×2 patches at columns 0, 1
    rng = np.random.default_rng(0)
    images = rng.standard_normal((400, 1, 2, 3))

    def cut(x, size):
        return np.concatenate(
            [x[:, :, i : i + size, j : j + size].reshape(len(x), -1) for i in range(3 - size) for j in range(4 - size)]
        )

    spectra = {2: empirical_spectrum(cut(images, 2)), 1: empirical_spectrum(cut(images, 1))}
    s = dataclasses.replace(setup, image_shape=(1, 2, 3), patch_spectra=spectra)
    state = restore_state(c, s)
    r = measure_snapshot(state.model, s, c)
    state.model.eval()
    with torch.no_grad():
        x = heun_sample(state.model, s.noise, s.sigmas).numpy().reshape(-1, 1, 2, 3)
    for key, size in (("patch", 2), ("patch1", 1)):
        assert r[f"{key}_gen_var"].shape == (size * size,)
        gen_var, mean_err, chi = _spectral_summary(cut(x, size), spectra[size])
        np.testing.assert_allclose(r[f"{key}_gen_var"], gen_var, rtol=1e-5)
        assert r[f"{key}_mean_err"] == pytest.approx(mean_err, rel=1e-5, abs=1e-12)
        assert r[f"{key}_chi"] == pytest.approx(chi, rel=1e-5)


def test_record_keeps_the_shown_samples_and_weights(tmp_path, setup, cfg):
    c = cfg()
    c.eval.save_weights = True
    state = restore_state(c, setup)
    assert sorted(setup.show) == [0, 30]  # n_show_snapshots = 2: the first and the last snapshot
    assert record_snapshot(state, setup, c, tmp_path) > 0
    train_steps(state, setup, c, 1)
    record_snapshot(state, setup, c, tmp_path)  # step 1: measured, not shown
    m = state.measurements
    assert m["steps"] == [0, 1] and m["show_steps"] == [0] and m["show_samples"][0].shape == (3, 6)
    assert len(m["gen_var"]) == 2 and state.measured(1) and state.t_meas > 0
    saved = torch.load(tmp_path / "weights" / "step_0000000.pt", weights_only=True)
    assert sorted(p.name for p in (tmp_path / "weights").iterdir()) == ["step_0000000.pt"]
    fresh = params(restore_state(c, setup))
    assert_same_params(fresh, saved)


# --- checkpoint ---


def test_checkpoint_then_restore_is_bit_identical_and_trains_on_identically(tmp_path, setup, cfg):
    c = cfg()
    a = restore_state(c, setup)
    train_steps(a, setup, c, 2)
    record_snapshot(a, setup, c, tmp_path)
    train_steps(a, setup, c, 7)
    write_checkpoint(tmp_path / "checkpoint.pt", a, c)
    torch_rng, gen_rng = torch.get_rng_state(), a.generator.get_state()
    b = restore_state(c, setup, open_run_folder(tmp_path, c, resume=True, overwrite=False))
    assert b.step == 7 and (b.t_train, b.t_meas) == (a.t_train, a.t_meas)
    assert_same_params(params(a), params(b))
    assert torch.equal(gen_rng, b.generator.get_state()) and torch.equal(torch_rng, torch.get_rng_state())
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for k, st in sa["state"].items():
        for name, v in st.items():
            assert torch.equal(v, sb["state"][k][name]), (k, name)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert a.measurements.keys() == b.measurements.keys()
    for k, v in a.measurements.items():
        for x, y in zip(v, b.measurements[k], strict=True):
            np.testing.assert_array_equal(x, y, err_msg=k)
    # both go on from the same RNG state (the global one, which drives dropout, was restored with b)
    train_steps(b, setup, c, 12)
    torch.set_rng_state(torch_rng)
    train_steps(a, setup, c, 12)
    assert_same_params(params(a), params(b))
    np.testing.assert_array_equal(a.losses, b.losses)


# --- write ---


@pytest.fixture(scope="module")
def measured(setup, tmp_path_factory, cfg):
    c, out = cfg(), tmp_path_factory.mktemp("measured")
    state = restore_state(c, setup)
    for s in (0, 1, 2):
        train_steps(state, setup, c, s)
        record_snapshot(state, setup, c, out)
    return c, state


def test_write_results_reads_back(tmp_path, setup, measured):
    c, state = measured
    res = write_results(tmp_path, c, setup, state, prov={"command": "by hand"}, t_setup=0.5)
    back = load_results(tmp_path)
    assert set(back) == set(res)
    for k in res:
        if k != "info":
            np.testing.assert_array_equal(back[k], res[k], err_msg=k)
    assert list(back["steps"]) == [0, 1, 2] and back["gen_var"].shape == (3, 6) and back["losses"].shape == (30,)
    np.testing.assert_allclose(back["times"], [0, 3e-3, 6e-3], rtol=1e-12)
    assert back["show_steps"].size == 1 and back["show_samples"].shape == (1, 3, 6)  # step 0 only: 30 not reached
    info = back["info"]
    assert info["command"] == "by hand" and info["config"] == c.to_dict() and info["n_train"] == 128
    assert info["sample_shape"] == [6] and info["image_shape"] == [6] and info["threads"] == 1
    t = info["timings"]
    assert t["setup_s"] == 0.5 and t["total_s"] == pytest.approx(0.5 + state.t_train + state.t_meas)
    assert t["samples_per_s"] == pytest.approx(3 * 50 / state.t_meas)
    assert leftovers(tmp_path) == []


def test_write_results_is_atomic(tmp_path, setup, measured, monkeypatch):
    c, state = measured

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train_mod.np, "savez_compressed", full)
    with pytest.raises(OSError, match="No space left"):
        write_results(tmp_path, c, setup, state, prov={}, t_setup=0.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither file, no temporary file
    monkeypatch.undo()
    monkeypatch.setattr(train_mod.json, "dumps", full)
    with pytest.raises(OSError, match="No space left"):
        write_results(tmp_path, c, setup, state, prov={}, t_setup=0.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.npz"]  # complete, the json not begun
    with np.load(tmp_path / "results.npz") as z:
        assert list(z["steps"]) == [0, 1, 2]


# --- the loop between the steps ---


@pytest.mark.parametrize(
    "step, stop_after, every, expected",
    [
        (2, None, 0, 5),  # snapshots of 30 steps in 6: 0, 1, 2, 5, 13, 30
        (5, None, 0, 13),
        (13, None, 0, 30),
        (2, 4, 0, 4),  # stop_after comes first
        (2, 2, 0, 5),  # ... unless already reached
        (2, None, 3, 3),  # a periodic checkpoint
        (13, None, 7, 14),
        (13, 40, 0, 30),  # never past the last step
    ],
)
def test_the_loop_stops_training_where_it_has_to_act(step, stop_after, every, expected, cfg):
    c = cfg(checkpoint_every=every)
    assert list(train_mod.snapshot_steps(30, 6)) == [0, 1, 2, 5, 13, 30]
    assert train_mod._next_stop(step, c, train_mod.snapshot_steps(30, 6), stop_after) == expected


def test_progress_accumulates_this_process_timings(cfg):
    c = cfg()
    pr = train_mod._Progress(c, 6, 30, 0, enabled=False)
    est = train_mod._sampling_cost(c)
    pr.measured(0.2)  # the first snapshot, before any step: the estimate is kept
    assert pr.cost == est and (pr.n_meas, pr.t_meas) == (1, 0.2)
    pr.trained(4, 0.04)  # fewer than 5 steps timed: still kept
    pr.measured(0.3)
    assert pr.cost == est
    pr.trained(6, 0.06)  # 10 steps in 0.1 s; 3 snapshots in 0.9 s → 0.3 s / 0.01 s = 30 steps per snapshot
    pr.measured(0.4)
    assert pr.cost == pytest.approx(30.0) and pr.snaps_left == 3
    pr.close()
