"""The map of the paper (paper_map.md) is complete and every link in it points at something that exists.

Completeness is checked against the paper's list of figures, lemmas, propositions and tables (arXiv:2503.03206, v2
numbering; v3-only items marked), written out below from the paper's figure list; link targets are checked in the
book's sources: a {ref} label must be defined as `(label)=`, a {prf:ref} label as `:label:` of a directive, an {eq}
label as `$$ (label)`, and a {doc} must be a page of _toc.yml. The post-build check
tests/postbuild/test_paper_map_links.py checks the same links in the built HTML.
"""

import re
from pathlib import Path

import pytest

from spectral_bias.booktools import notebooks as mk

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "paper_map.md"

# every figure (v2 numbers), with its panels where the paper has them, and the v3-only width ablation
FIGURES = [
    "1",
    "2A",
    "2B",
    "2C",
    "2D",
    "2E",
    "2F",
    "3A",
    "3B",
    "3C",
    "3D",
    "4A",
    "4B",
    "5A–F",
    "6A–B",
    "7A–B",
    "8",
    "9A",
    "9B",
    "9C",
    "10",
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17–20",
    "21",
    "22",
    "23",
]
STATEMENTS = [
    "Lemma C.1",
    "Lemma 4.1",
    "Prop. 4.2",
    "Prop. 5.1",
    "Prop. 5.2",
    "Prop. 5.3",
    "Prop. 5.4",
    "eq. (7)",
    "Table 1",
    "Table 2 (v3",
    "App. C.6",
    "App. D.2",
    "App. E.1.2",
    "App. F",
    "App. G.3.2",
    "App. H",
    "App. C.4",
    "App. D.1.2",
    "App. I.4–I.6",
]
STATUS = ("reproduced", "reduced scale", "quoted", "not reproduced")
ROLE = re.compile(r"\{(ref|prf:ref|eq|doc)\}`([^`]+)`")


def rows(text):
    """Table rows (lists of cells) of the markdown tables, header and separator lines excluded."""
    out = []
    for line in text.splitlines():
        if line.startswith("|") and not set(line) <= set("|-: ") and not line.startswith(("| paper |", "| v2 |")):
            out.append([c.strip() for c in line.strip().strip("|").split("|")])
    return out


def targets(cell):
    for role, body in ROLE.findall(cell):
        m = re.search(r"<([^>]+)>$", body)
        yield role, (m.group(1) if m else body).strip()


def sources():
    files = [ROOT / f"{d}.md" for d in mk.toc_docs(ROOT)]
    return {f: f.read_text(encoding="utf-8") for f in files if f.is_file()}


def defined(role, label, texts):
    if role == "doc":
        return label in mk.toc_docs(ROOT) and (ROOT / f"{label}.md").is_file()
    if role == "ref":
        pattern = rf"^\({re.escape(label)}\)=\s*$"
    elif role == "prf:ref":
        pattern = rf"^:label:\s*{re.escape(label)}\s*$"
    else:
        pattern = rf"^\$\$\s*\({re.escape(label)}\)\s*$"
    return any(re.search(pattern, t, flags=re.M) for t in texts)


@pytest.fixture(scope="module")
def table():
    return rows(MAP.read_text(encoding="utf-8"))


def test_map_is_in_the_book():
    assert "paper_map" in mk.toc_docs(ROOT)


def test_every_figure_and_statement_has_a_row(table):
    figure_rows = [r[0] for r in table if len(r) == 5]
    missing = [f for f in FIGURES if f not in figure_rows]
    assert not missing, f"figures without a row: {missing}"
    assert any(r[1] == "22–23" for r in table if len(r) == 5), "the v3 width ablation (Figs. 22-23) has no row"
    firsts = [r[0] for r in table if len(r) == 4]
    missing = [s for s in STATEMENTS if not any(f.startswith(s) for f in firsts)]
    assert not missing, f"statements without a row: {missing}"


def test_every_row_has_a_status_and_a_place_or_a_reason(table):
    for r in table:
        status, where = r[-2], r[-1]
        assert status.startswith(STATUS) or any(s in status for s in STATUS), f"no status: {r}"
        if where == "–":
            assert "not reproduced" in status and ":" in status, f"a row without a link must give its reason: {r}"
        else:
            assert list(targets(where)), f"no link in the 'where' cell: {r}"


def test_every_link_target_exists_in_the_sources(table):
    texts = list(sources().values())
    bad = [
        (role, label) for r in table for cell in r for role, label in targets(cell) if not defined(role, label, texts)
    ]
    assert not bad, f"links to targets that do not exist: {bad}"


def test_the_link_check_can_fail():
    texts = list(sources().values())
    assert defined("ref", "ch-convolution", texts) and not defined("ref", "ch-no-such-chapter", texts)
    assert defined("prf:ref", "prop-patch", texts) and not defined("prf:ref", "prop-no-such", texts)
    assert defined("eq", "eq-kl", texts) and not defined("eq", "eq-no-such", texts)
    assert defined("doc", "chapters/10_neural_cnn", texts) and not defined("doc", "chapters/99_nothing", texts)
    assert list(targets("{ref}`the chapter <ch-convolution>`")) == [("ref", "ch-convolution")]
