"""The API reference page (api.md) gives every public name its own anchor and an objects.inv entry.

Builds a two-page book (intro + api.md) with the book's own _config.yml and extensions, warnings as errors and
nitpicky, like `make book`, and checks the HTML and the intersphinx inventory against the modules' `__all__`.
"""

import importlib
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["theory", "numerics", "data", "plotting", "notebook", "nets", "experiments", "exercises"]


@pytest.mark.slow
def test_every_public_name_has_an_anchor_and_an_inventory_entry(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    for f in ["_config.yml", "api.md", "references.bib"]:
        shutil.copy(ROOT / f, book / f)
    shutil.copytree(ROOT / "_ext", book / "_ext")
    (book / "intro.md").write_text("# Intro\n\nSee {doc}`api`.\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: api\n")
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run(
        [str(jb), "build", str(book), "-W", "-n", "--keep-going"], capture_output=True, text=True, timeout=600
    )
    warnings = [ln for ln in proc.stdout.splitlines() + proc.stderr.splitlines() if "WARNING" in ln or "ERROR" in ln]
    assert proc.returncode == 0 and not warnings, "\n".join(warnings[:30]) or proc.stderr[-3000:]
    html = (book / "_build" / "html" / "api.html").read_text(encoding="utf-8")
    inv = subprocess.run(
        [sys.executable, "-m", "sphinx.ext.intersphinx", str(book / "_build/html/objects.inv")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    missing_anchor, missing_inv = [], []
    for m in MODULES:
        mod = importlib.import_module(f"spectral_bias.{m}")
        for name in mod.__all__:
            if inspect.ismodule(getattr(mod, name)) or name.startswith("_"):
                continue
            target = f"spectral_bias.{m}.{name}"
            if f'id="{target}"' not in html:
                missing_anchor.append(target)
            if not re.search(rf"^\s+{re.escape(target)}\s", inv, re.M):
                missing_inv.append(target)
    assert not missing_anchor, f"no anchor in api.html for {missing_anchor}"
    assert not missing_inv, f"not in objects.inv: {missing_inv}"
