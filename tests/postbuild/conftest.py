"""Post-build checks of the HTML book: run by `make test` after `jupyter-book build`."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "scripts"))
from make_notebooks import toc_docs  # noqa: E402  (one reader of _toc.yml for the scripts and the checks)


def toc_files():
    """Every document named in _toc.yml (root first, then in order), without extension."""
    return toc_docs(ROOT)


@pytest.fixture(scope="session")
def html_dir():
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book at {HTML}: run `make rebuild` first")
    return HTML


@pytest.fixture(scope="session")
def execution_records(html_dir):
    path = html_dir / "reports" / "execution.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: the execution_report extension did not run")
    return json.loads(path.read_text())
