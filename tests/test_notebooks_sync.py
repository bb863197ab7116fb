"""The committed .ipynb twins (Colab/Binder) match their MyST sources, and the repository URL lives in one place."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_notebooks as mk  # noqa: E402

SOURCES = mk.notebook_sources()


def test_every_notebook_twin_is_in_sync():
    problems = mk.out_of_date()
    assert not problems, "notebook twins out of date (run `make notebooks`):\n" + "\n".join(problems)


@pytest.mark.parametrize("md", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_twin_first_cell_installs_only_in_colab(md):
    nb = json.loads(mk.twin_path(md).read_text(encoding="utf-8"))
    first = nb["cells"][0]
    src = "".join(first["source"])
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert first["cell_type"] == "code" and mk.INSTALL_TAG in first["metadata"].get("tags", [])
    assert f"git+{url}" in src, "the install cell must use repository.url from _config.yml"
    # Outside Colab the cell must do nothing: run it here (no google.colab module) with pip made to fail loudly.
    code = "import subprocess\nsubprocess.run = lambda *a, **k: (_ for _ in ()).throw(SystemExit('ran pip'))\n" + src
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"the install cell did something outside Colab: {proc.stderr[-500:]}"
    # ...and inside Colab it installs: pretend google.colab is imported and record the commands.
    fake = ("import sys, types, subprocess\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"
            "calls = []\nsubprocess.run = lambda cmd, **k: calls.append(cmd)\n" + src + "\nprint(calls)\n")
    proc = subprocess.run([sys.executable, "-c", fake], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert "'pip', 'install'" in proc.stdout and f"git+{url}" in proc.stdout


def test_regeneration_is_deterministic_and_detects_edits(tmp_path):
    """The sync check is not vacuous: editing a source makes its twin out of date."""
    (tmp_path / "chapters").mkdir()
    (tmp_path / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/a\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    front = ("jupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n    format_version: 0.13\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n")
    md = tmp_path / "chapters" / "a.md"
    md.write_text(f"---\n{front}---\n\n# A\n\n```{{code-cell}} ipython3\nx = data.load(\"mnist\")\n```\n")
    assert mk.out_of_date(tmp_path) == ["chapters/a.ipynb: missing"]
    mk.write_twins(tmp_path)
    first = md.with_suffix(".ipynb").read_text()
    assert mk.out_of_date(tmp_path) == []
    mk.write_twins(tmp_path)
    assert md.with_suffix(".ipynb").read_text() == first, "regeneration must be byte-identical"
    assert '\\"fetch\\", \\"mnist\\"' in first, "a chapter loading mnist must fetch it in Colab"
    md.write_text(md.read_text().replace("x = ", "y = "))
    assert mk.out_of_date(tmp_path) == ["chapters/a.ipynb: differs from chapters/a.md"]
    (tmp_path / "chapters" / "old.ipynb").write_text("{}")
    assert "chapters/old.ipynb: orphan" in " ".join(mk.out_of_date(tmp_path))


def test_repository_url_lives_in_one_place():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    holders = []
    for f in files:
        path = ROOT / f
        if path.suffix in {".npz", ".png", ".gz", ".whl"} or not path.is_file():
            continue
        try:
            if url in path.read_text(encoding="utf-8"):
                holders.append(f)
        except UnicodeDecodeError:
            continue
    generated = {str(mk.twin_path(md).relative_to(ROOT)) for md in SOURCES}
    assert set(holders) - generated == {"_config.yml"}, f"the repository URL is written in {holders}"
