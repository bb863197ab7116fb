"""The book's build configuration turns a failing cell into a failing build (book-stack.md, trap 1).

Builds a one-chapter book with the project's own _config.yml and build flags (the Makefile's), once with a cell that
raises and once without, and checks the exit status. Catches a config change that would let errors through.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRONT = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
x = 1 + 1
print(x)
```
"""


def build_flags():
    match = re.search(r"^BUILD_FLAGS := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    return match.group(1).split()


def make_book(tmp_path, extra_cell=""):
    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "_ext", tmp_path / "_ext")
    (tmp_path / "index.md").write_text("# Test book\n")
    (tmp_path / "chapter.md").write_text(FRONT + extra_cell)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: chapter\n")
    jb = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run(
        [str(jb), "build", str(tmp_path), *build_flags()], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_clean_chapter_builds(tmp_path):
    proc = make_book(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (tmp_path / "_build" / "html" / "chapter.html").exists()


@pytest.mark.slow
def test_raising_cell_fails_the_build(tmp_path):
    proc = make_book(tmp_path, "\n```{code-cell} ipython3\nraise RuntimeError('deliberately broken cell')\n```\n")
    assert proc.returncode != 0, "a chapter cell that raises must fail the build"
    assert "deliberately broken cell" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_sphinx_warning_fails_the_build(tmp_path):
    # -W: a Sphinx warning (here: a reference to a missing label) must fail the build too
    proc = make_book(tmp_path, "\nSee {ref}`no-such-label`.\n")
    assert proc.returncode != 0
