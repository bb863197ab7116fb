"""The problem sets (problems/*.md): one page per part of the book, 3-5 longer problems each, every problem with a
worked solution, every solution removed by the student edition's stripping, every cross-reference resolvable."""

import re
from pathlib import Path

import pytest

from spectral_bias.booktools import notebooks as mk

ROOT = Path(__file__).resolve().parents[1]

PAGES = sorted((ROOT / "problems").glob("*.md"))
PARTS = {
    "Foundations": "foundations",
    "Linear theory": "linear_theory",
    "Beyond one linear layer": "beyond_one_layer",
    "Neural networks": "neural_networks",
}
ROLE = re.compile(r"\{(ref|prf:ref|eq|doc)\}`([^`]+)`")


def test_one_problem_page_closes_each_part():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    parts = {p["caption"]: [c["file"] for c in p["chapters"]] for p in toc["parts"]}
    for caption, stem in PARTS.items():
        assert parts[caption][-1] == f"problems/{stem}", f"{caption} does not end with its problem set"
    assert sorted(p.stem for p in PAGES) == sorted(PARTS.values())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_three_to_five_problems_each_with_a_solution(page):
    text = page.read_text(encoding="utf-8")
    exercises = re.findall(r"^```\{exercise\}\n:label: (\S+)", text, flags=re.M)
    solutions = re.findall(r"^```\{solution\} (\S+)\n:class: dropdown", text, flags=re.M)
    assert 3 <= len(exercises) <= 5, exercises
    assert solutions == exercises, f"every problem needs a folded solution, in order: {exercises} vs {solutions}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_student_stripping_removes_every_solution_and_keeps_the_problems(page):
    text = page.read_text(encoding="utf-8")
    stripped = mk.strip_solutions(text)
    assert "{solution" not in stripped
    kept = set(stripped.splitlines())
    removed = [ln for ln in text.splitlines() if ln not in kept and ln.strip()]
    phrases = [m.group(0) for ln in removed for m in re.finditer(r"(?:[A-Za-z]{2,} ){4,}[A-Za-z]{2,}", ln)]
    assert len(phrases) > 10, "the solutions should be worked out, in sentences"
    leaked = [p for p in phrases if p in stripped]
    assert not leaked, leaked
    assert stripped.count("```{exercise}") == text.count("```{exercise}")


def _defined(role, label, texts):
    if role == "doc":
        return (ROOT / f"{label}.md").is_file()
    if role == "eq":
        return any(re.search(rf"^\$\$\s*\({re.escape(label)}\)\s*$", t, flags=re.M) for t in texts)
    pats = [rf"^:label:\s*{re.escape(label)}\s*$"] + ([rf"^\({re.escape(label)}\)=\s*$"] if role == "ref" else [])
    return any(re.search(p, t, flags=re.M) for p in pats for t in texts)


def test_cross_references_resolve():
    texts = [(ROOT / f"{d}.md").read_text(encoding="utf-8") for d in mk.toc_docs(ROOT) if (ROOT / f"{d}.md").is_file()]
    bad = []
    for page in PAGES:
        for role, body in ROLE.findall(page.read_text(encoding="utf-8")):
            m = re.search(r"<([^>]+)>$", body)
            label = (m.group(1) if m else body).strip()
            if not _defined(role, label, texts):
                bad.append((page.name, role, label))
    assert not bad, bad
    assert not _defined("ref", "ps-no-such-problem", texts)
