"""Post-build: every link on the map of the paper resolves in the built HTML (the page and the anchor exist), and no
reference was left unresolved. The source-level check is tests/test_paper_map.py."""

import functools
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _ids(page: Path) -> frozenset:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return frozenset(tag["id"] for tag in soup.find_all(id=True))


def test_paper_map_links_resolve(html_dir):
    page = html_dir / "paper_map.html"
    assert page.is_file(), "paper_map.html was not built"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    main = soup.find("main") or soup
    table_rows = [
        line for line in (ROOT / "paper_map.md").read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
    n_roles = sum(len(re.findall(r"\{(?:ref|prf:ref|eq|doc)\}`", line)) for line in table_rows)
    links = [a for a in main.select("table a.reference.internal")]
    assert len(links) >= n_roles, f"{len(links)} internal links in the tables, {n_roles} references in the source"
    unresolved = [x.get_text() for x in main.select("table span.xref") if x.find_parent("a") is None]
    assert not unresolved, f"unresolved references: {unresolved}"
    broken = []
    for a in links:
        href = urlsplit(a["href"])
        target = (page.parent / unquote(href.path)).resolve() if href.path else page
        if not target.is_file():
            broken.append(a["href"])
        elif href.fragment and unquote(href.fragment) not in _ids(target):
            broken.append(a["href"])
    assert not broken, f"links that do not resolve: {broken}"
