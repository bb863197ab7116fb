"""Post-build checks of the HTML book: run by `make test` after `jupyter-book build`."""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


def toc_files():
    """Every document named in _toc.yml (root, chapters, sections), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return [str(Path(f).with_suffix("")) for f in files]


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
