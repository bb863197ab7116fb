"""A generated notebook runs in a fresh virtual environment that installs the package the way its Colab cell does.

The shortest chapter's .ipynb twin (fewest code lines; `SB_COLAB_CHAPTER=chapters/x.md` picks another) is run with
nbclient in a brand-new venv (no system site-packages) holding only ipykernel and nbclient. A first cell pretends
to be Colab (`google.colab` in sys.modules), so the twin's own install cell runs its own pip command, with the git
URL replaced by a copy of this checkout's files. Versions are constrained to requirements.txt's pins (PIP_CONSTRAINT), so torch is
the local CPU wheel (/opt/wheels) and everything else comes from pip's cache or the configured index mirrors.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_notebooks as mk  # noqa: E402

FAKE_COLAB = 'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")  # pretend: Colab'

# Used only while the book has no notebook chapter yet: still exercises install + import + a computation.
FALLBACK = """---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# Smoke test

```{code-cell} ipython3
import numpy as np, torch, spectral_bias
from spectral_bias import data, plotting
print(spectral_bias.__file__, data.load("digits", n=10).shape, torch.__version__)
```
"""


def _src(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _code_lines(md: Path) -> int:
    return sum(len(_src(c).splitlines()) for c in json.loads(mk.notebook_text(md))["cells"] if c["cell_type"] == "code")


def _pick(tmp_path: Path) -> Path:
    chosen = os.environ.get("SB_COLAB_CHAPTER")
    if chosen:
        return mk.twin_path(ROOT / chosen)
    sources = [md for md in mk.notebook_sources() if md.parent.name == "chapters"]
    if sources:
        return mk.twin_path(min(sources, key=_code_lines))
    md = tmp_path / "smoke.md"
    md.write_text(FALLBACK)
    nb = tmp_path / "smoke.ipynb"
    nb.write_text(mk.notebook_text(md))
    return nb


def _checkout_copy(dest: Path) -> Path:
    """The files git would clone (tracked + untracked-not-ignored, as in the working tree): what `git+URL` gets,
    and no build litter left in the real checkout."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    return dest


def _constraints(path: Path) -> Path:
    pins = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith(("#", "-"))]
    path.write_text("\n".join(pins) + "\n")
    return path


@pytest.mark.slow
def test_generated_notebook_runs_in_fresh_venv_with_colab_install(tmp_path):
    twin = _pick(tmp_path)
    nb = json.loads(twin.read_text(encoding="utf-8"))
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    install = _src(nb["cells"][0])
    remote = f"git+{cfg['url']}@{cfg['branch']}"
    assert remote in install, "the first cell must install from repository.url/branch of _config.yml"
    checkout = _checkout_copy(tmp_path / "checkout")
    nb["cells"][0]["source"] = install.replace(f"@ {remote}", f"@ {checkout.as_uri()}")
    nb["cells"].insert(0, {"cell_type": "code", "id": "fake-colab", "metadata": {}, "outputs": [],
                           "execution_count": None, "source": FAKE_COLAB})
    work = tmp_path / "run"
    work.mkdir()
    (work / twin.name).write_text(json.dumps(nb))

    env_dir = tmp_path / "venv"
    # As in Colab: an empty data root (the install cell fetches what the chapter needs), the installed package only.
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    py = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PIP_CONSTRAINT=str(_constraints(tmp_path / "constraints.txt")), PIP_DISABLE_PIP_VERSION_CHECK="1",
               SPECTRAL_BIAS_DATA=str(tmp_path / "data"), MPLBACKEND="Agg", PATH=f"{env_dir / 'bin'}:{env['PATH']}")
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "ipykernel", "nbclient"], env=env, check=True,
                   timeout=600)
    runner = (
        "import sys, nbformat, nbclient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': sys.argv[2]}})"
        ".execute()\n"
        "nbformat.write(nb, sys.argv[1])\n"
    )
    proc = subprocess.run([str(py), "-c", runner, str(work / twin.name), str(work)], env=env, cwd=work,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"{twin.name} failed in the fresh venv:\n{proc.stderr[-4000:]}"

    # it really ran against the freshly installed package, not this checkout's sources
    show = subprocess.run([str(py), "-c", "import spectral_bias; print(spectral_bias.__file__)"], env=env,
                          capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in show and "site-packages" in show
    done = json.loads((work / twin.name).read_text())
    errors = [o for c in done["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors and all(c.get("execution_count") for c in done["cells"]
                              if c["cell_type"] == "code" and _src(c).strip())
    assert not re.search(r"Traceback", json.dumps(done)), "a traceback in the outputs"
