"""The committed .ipynb twins (Colab/Binder) match their MyST sources, and the repository URL lives in one place."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spectral_bias.booktools import notebooks as mk

ROOT = Path(__file__).resolve().parents[1]

SOURCES = mk.notebook_sources()


def test_every_notebook_twin_is_in_sync():
    problems = mk.out_of_date()
    assert not problems, "notebook twins out of date (run `make notebooks`):\n" + "\n".join(problems)


def _run_install_cell(src: str, *, importable: bool, pip_fails: bool = False, env: dict | None = None):
    """Run an install cell in a fresh interpreter with subprocess.run recorded (pip and fetch are not run).

    importable=False hides the package until the (recorded) pip install "installs" it, as on Colab or Kaggle."""
    harness = (
        "import json, subprocess, sys, types\n"
        "calls = []\n"
        f"PIP_FAILS = {pip_fails!r}\n"
        "def fake_run(cmd, **kw):\n"
        "    calls.append(cmd)\n"
        "    if cmd[1:4] == ['-m', 'pip', 'install']:\n"
        "        sys.modules.pop('spectral_bias', None)\n"
        "        return types.SimpleNamespace(returncode=1 if PIP_FAILS else 0, stdout='', stderr='no network')\n"
        "    return types.SimpleNamespace(returncode=0, stdout='ok', stderr='')\n"
        "subprocess.run = fake_run\n"
        + ("" if importable else "sys.modules['spectral_bias'] = None  # import fails until pip has run\n")
        + "try:\n"
        + "".join("    " + line + "\n" for line in src.splitlines())
        + "finally:\n    print('CALLS=' + json.dumps(calls))\n"
    )
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    full_env.pop("SPECTRAL_BIAS_PIP_SPEC", None) if not env or "SPECTRAL_BIAS_PIP_SPEC" not in env else None
    proc = subprocess.run([sys.executable, "-c", harness], capture_output=True, text=True, timeout=60, env=full_env)
    calls = json.loads(proc.stdout.split("CALLS=")[-1]) if "CALLS=" in proc.stdout else None
    return proc, calls


@pytest.mark.parametrize("md", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_first_cell_installs_the_pinned_package_whenever_it_is_missing(md):
    nb = json.loads(mk.notebook_text(md, ref="0123abcd"))
    first = nb["cells"][0]
    src = "".join(first["source"])
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert first["cell_type"] == "code" and mk.INSTALL_TAG in first["metadata"].get("tags", [])
    assert first["metadata"]["jupyter"]["outputs_hidden"] is True, "the install cell's output is hidden"
    assert not first["metadata"]["jupyter"].get("source_hidden"), "the install cell's code stays visible"
    assert mk.install_cell_ref(src) == "0123abcd"
    wanted = mk.fetched_datasets(md.read_text(encoding="utf-8"))
    # package importable (a checkout, Binder): no pip; the chapter's data are fetched (idempotent)
    proc, calls = _run_install_cell(src, importable=True)
    assert proc.returncode == 0, proc.stderr[-800:]
    assert not [c for c in calls if "pip" in c]
    assert [c[4:] for c in calls if c[1:4] == ["-m", "spectral_bias.data", "fetch"]] == ([wanted] if wanted else [])
    # package missing (Colab, Kaggle, JupyterHub, a downloaded notebook): pip installs the pinned commit
    proc, calls = _run_install_cell(src, importable=False)
    assert proc.returncode == 0, proc.stderr[-800:]
    assert calls[0][1:5] == ["-m", "pip", "install", "--quiet"]
    assert calls[0][5] == f"spectral_bias[all] @ git+{url}@0123abcd"
    # an override for a fork or a local checkout
    proc, calls = _run_install_cell(src, importable=False, env={"SPECTRAL_BIAS_PIP_SPEC": "/some/checkout"})
    assert proc.returncode == 0 and calls[0][5] == "/some/checkout"
    # a failed install stops the notebook with pip's message
    proc, _ = _run_install_cell(src, importable=False, pip_fails=True)
    assert proc.returncode != 0 and "no network" in proc.stderr and "RuntimeError" in proc.stderr


def _git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def test_pinned_ref_is_the_commit_or_tag_of_the_package(tmp_path, monkeypatch):
    monkeypatch.delenv(mk.PIN_ENV, raising=False)
    repo = tmp_path
    (repo / "src").mkdir()
    (repo / "src" / "a.py").write_text("x = 1\n")
    (repo / "chapters").mkdir()
    (repo / "chapters" / "c.md").write_text("text\n")
    _git(repo, "init", "-q")
    for args in (("config", "user.email", "t@example.org"), ("config", "user.name", "t")):
        _git(repo, *args)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    first = _git(repo, "rev-parse", "HEAD")
    assert mk.pinned_ref(repo) == first
    (repo / "chapters" / "c.md").write_text("more text\n")
    _git(repo, "commit", "-qam", "prose only")
    assert mk.pinned_ref(repo, previous=first) == first, "same package: the pin stays (no churn in the twins)"
    tools = repo / "src" / "spectral_bias" / "booktools"
    tools.mkdir(parents=True)
    (tools / "notebooks.py").write_text("y = 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "twin tooling only")
    assert mk.pinned_ref(repo, previous=first) == first, "the twins' build tooling is not the installed package"
    (repo / "src" / "a.py").write_text("x = 2\n")
    _git(repo, "commit", "-qam", "package change")
    head = _git(repo, "rev-parse", "HEAD")
    assert mk.pinned_ref(repo, previous=first) == head, "the package changed: repinned to HEAD"
    assert mk.pinned_ref(repo, previous="not-a-commit") == head
    _git(repo, "tag", "v0.2.0")
    assert mk.pinned_ref(repo, previous=first) == "v0.2.0", "a release tag on HEAD is pinned by name"
    monkeypatch.setenv(mk.PIN_ENV, "v0.1.0")
    assert mk.pinned_ref(repo) == "v0.1.0"


def test_regeneration_is_deterministic_and_detects_edits(tmp_path):
    """The sync check is not vacuous: editing a source makes its twin out of date."""
    (tmp_path / "chapters").mkdir()
    (tmp_path / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/a\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    front = (
        "jupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n    format_version: 0.13\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n"
    )
    md = tmp_path / "chapters" / "a.md"
    md.write_text(f'---\n{front}---\n\n# A\n\n```{{code-cell}} ipython3\nx = data.load("mnist")\n```\n')
    assert mk.out_of_date(tmp_path) == ["chapters/a.ipynb: missing"]
    mk.write_twins(tmp_path)
    first = md.with_suffix(".ipynb").read_text()
    assert mk.out_of_date(tmp_path) == []
    mk.write_twins(tmp_path)
    assert md.with_suffix(".ipynb").read_text() == first, "regeneration must be byte-identical"
    assert '\\"fetch\\", \\"mnist\\"' in first, "a chapter loading mnist must fetch it"
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


def test_command_line(tmp_path):
    """`python -m spectral_bias.booktools.notebooks` (what `make notebooks` runs) and its scripts/ wrapper."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

    def run(*args):
        return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)

    proc = run(sys.executable, "-m", "spectral_bias.booktools.notebooks", "--root", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--root must be a book folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/a\n")
    (book / "intro.md").write_text("# Intro\n")
    (book / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    (book / "chapters" / "a.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n"
        "  display_name: Python 3\n---\n# A\n\n```{code-cell} python3\nx = 1\n```\n"
    )
    proc = run(sys.executable, str(ROOT / "scripts" / "make_notebooks.py"), "--check", "--root", str(book))
    assert proc.returncode == 1 and "chapters/a.ipynb: missing" in proc.stdout
    proc = run(sys.executable, "-m", "spectral_bias.booktools.notebooks", "--root", str(book))
    assert proc.returncode == 0 and "1 twin(s) written" in proc.stdout, proc.stderr
    assert json.loads((book / "chapters" / "a.ipynb").read_text())["cells"][-1]["source"] == ["x = 1"]
    proc = run(sys.executable, "-m", "spectral_bias.booktools.notebooks", "--check", "--root", str(book))
    assert proc.returncode == 0, proc.stdout
