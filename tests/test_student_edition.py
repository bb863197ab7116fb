"""The student edition (`make student`) contains no solution text: not in its HTML, search index, downloadable
sources, or notebooks. Run after `make student` (make test does); the stripping itself is unit-tested first."""

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from spectral_bias.booktools import notebooks as mk

ROOT = Path(__file__).resolve().parents[1]

STUDENT = ROOT / "_build_student"
READER_HTML = ROOT / "_build" / "html"
SOURCES = mk.notebook_sources()

DOC = """\
# Title

```{exercise}
:label: ex-a
Compute alpha bravo charlie.
```

```{solution} ex-a
:class: dropdown
The answer is purple elephants forty two.

````{note}
nested fence inside a solution
````
```

:::{solution} ex-a
colon fenced secret sentence here
:::

```{exercise}
:label: ex-b
Write delta echo foxtrot.
```

```{solution-start} ex-b
:class: dropdown
```
Gated prose zebra quantum marmalade.
```{code-cell} ipython3
print("gated code secret")
```
```{solution-end}
```

Closing paragraph stays.
"""


def test_strip_solutions_removes_plain_colon_nested_and_gated():
    out = mk.strip_solutions(DOC)
    for secret in (
        "purple elephants",
        "nested fence",
        "colon fenced secret",
        "zebra quantum",
        "gated code secret",
        "{solution",
        "solution-end",
    ):
        assert secret not in out, f"{secret!r} survived:\n{out}"
    for kept in ("Compute alpha bravo charlie.", "Write delta echo foxtrot.", "Closing paragraph stays.", "# Title"):
        assert kept in out
    assert out.count("```{exercise}") == 2


def test_strip_solutions_rejects_broken_markup():
    with pytest.raises(ValueError, match="unclosed"):
        mk.strip_solutions("```{solution} ex\nnever closed\n")
    with pytest.raises(ValueError, match="solution-end"):
        mk.strip_solutions("```{solution-start} ex\n```\ntext\n")


def _phrases(md: Path) -> list[str]:
    """Runs of >= 5 plain words from the solution blocks of `md` (what strip_solutions removes)."""
    text = md.read_text(encoding="utf-8")
    kept = set(mk.strip_solutions(text).splitlines())
    removed = [ln for ln in text.splitlines() if ln not in kept]
    found = []
    for ln in removed:
        found += [m.group(0) for m in re.finditer(r"(?:[A-Za-z]{2,} ){4,}[A-Za-z]{2,}", ln)]
    return found


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def _corpus(folder: Path) -> str:
    """All text a reader of `folder` can get: HTML as rendered text, everything else raw."""
    parts = []
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or f.suffix in {".png", ".jpg", ".svg", ".woff", ".woff2", ".ttf", ".eot", ".ico"}:
            continue
        if "vendor" in f.parts:
            continue
        raw = f.read_text(encoding="utf-8", errors="ignore")
        parts.append(BeautifulSoup(raw, "html.parser").get_text(" ") if f.suffix == ".html" else raw)
    return _norm("\n".join(parts))


@pytest.fixture(scope="module")
def student_html():
    html = STUDENT / "html"
    if not (html / "index.html").is_file():
        pytest.fail(f"no student edition at {html}: run `make student` first")
    return html


def test_no_solution_text_in_student_edition(student_html):
    reader = _corpus(READER_HTML) if (READER_HTML / "index.html").is_file() else ""
    student = _corpus(student_html)
    notebooks = _norm(
        "\n".join(p.read_text(encoding="utf-8") for p in sorted((STUDENT / "notebooks").rglob("*.ipynb")))
    )
    leaks, checked = [], 0
    for md in SOURCES:
        phrases = _phrases(md)
        if reader:
            # only phrases the reader edition really shows (not split by markup): proves the check can fail
            phrases = [p for p in phrases if p in reader]
        if "{solution" in md.read_text(encoding="utf-8"):
            assert phrases, f"{md.name}: no checkable sentence found in its solutions"
        for p in phrases:
            checked += 1
            if p in student or p in notebooks:
                leaks.append(f"{md.name}: {p!r}")
    assert not leaks, "solution text in the student edition:\n" + "\n".join(leaks[:20])
    print(f"\n{checked} solution phrases checked, none in the student edition")


def test_student_edition_keeps_exercises(student_html):
    for md in SOURCES:
        page = student_html / md.relative_to(ROOT).with_suffix(".html")
        assert page.is_file(), f"{page} missing"
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        n_ex = md.read_text(encoding="utf-8").count("{exercise")
        assert len(soup.select("div.exercise")) >= min(n_ex, 1) * 1, f"{page.name}: exercises missing"
        assert not soup.select("div.solution"), f"{page.name}: a solution block is still there"


def test_student_notebooks_exist_for_every_chapter():
    for md in SOURCES:
        nb = STUDENT / "notebooks" / md.relative_to(ROOT).with_suffix(".ipynb")
        assert nb.is_file(), f"{nb} missing: run `make student`"
        text = nb.read_text(encoding="utf-8")
        assert "{solution" not in text and mk.INSTALL_TAG in text
