"""Post-build checks of the HTML book: run by `make test` after `jupyter-book build`."""

import json
from pathlib import Path

import pytest

from spectral_bias.booktools.notebooks import toc_docs  # one reader of _toc.yml for the tooling and the checks

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


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
