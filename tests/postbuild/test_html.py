"""The built book is complete: every page, no error output, every image, every chapter executed in time."""

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

from conftest import HTML, ROOT, toc_files

MAX_CHAPTER_SECONDS = 120.0
PAGES = toc_files()
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]


def soup(page):
    return BeautifulSoup((HTML / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("page", PAGES)
def test_page_exists(html_dir, page):
    assert (html_dir / f"{page}.html").is_file(), f"{page} is in _toc.yml but has no HTML page"


@pytest.mark.parametrize("page", PAGES)
def test_no_error_output(html_dir, page):
    doc = soup(page)
    bad = doc.select("div.output.traceback, div.output.stderr, div.output.error")
    assert not bad, f"{page}: {len(bad)} error/stderr output block(s), first:\n{bad[0].get_text()[:800]}"
    for out in doc.select("div.cell_output"):
        text = out.get_text()
        assert "Traceback (most recent call last)" not in text, f"{page}: a traceback in a cell output"
        assert not re.search(r"\b\w*Warning: ", text), f"{page}: a warning printed in a cell output:\n{text[:500]}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_shows_its_figures(html_dir, page):
    # every chapter plots; a page with no figure image in its outputs means figures were silently dropped
    # (for example a non-interactive matplotlib backend forced on the kernel)
    source = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    expected = source.count("plt.show()")
    images = [img for out in soup(page).select("div.cell_output") for img in out.find_all("img")]
    assert expected == 0 or images, f"{page}: {expected} plt.show() calls in the source but no figure in the HTML"


def test_no_error_logs(html_dir):
    logs = sorted((html_dir / "reports").glob("*.err.log")) if (html_dir / "reports").exists() else []
    assert not logs, "execution error logs: " + ", ".join(str(p.relative_to(ROOT)) for p in logs)


@pytest.mark.parametrize("page", PAGES)
def test_images_exist(html_dir, page):
    missing = []
    for img in soup(page).find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:"):
            continue
        url = urlparse(src)
        assert not url.scheme, f"{page}: image loaded from the network: {src}"
        target = (html_dir / page).parent / unquote(url.path)
        if not target.resolve().is_file():
            missing.append(src)
    assert not missing, f"{page}: missing images {missing}"


def test_every_chapter_executed_in_time(execution_records):
    lines, problems = [], []
    for page in CHAPTERS:
        rec = execution_records.get(page)
        if rec is None:
            problems.append(f"{page}: never executed (missing jupytext front matter?)")
            continue
        runtime = rec.get("runtime")
        lines.append(f"{page:45s} {runtime if runtime is not None else float('nan'):8.1f} s  ({rec.get('method')})")
        if not rec.get("succeeded", False):
            problems.append(f"{page}: execution failed ({rec.get('error')})")
        elif runtime is not None and runtime > MAX_CHAPTER_SECONDS:
            problems.append(f"{page}: {runtime:.1f} s > {MAX_CHAPTER_SECONDS:.0f} s")
    report = "\n".join(lines)
    (ROOT / "_build" / "execution_times.txt").write_text(report + "\n")
    print("\nPer-chapter execution times (also in _build/execution_times.txt):\n" + report)
    assert not problems, "\n".join(problems)
