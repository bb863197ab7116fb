"""The "How to cite" page is plain Markdown (no kernel, so no notebook twin): its BibTeX entry for the book must name
the title, author and address of _config.yml and the version of the installed package, and agree with
references.bib."""

import re
from pathlib import Path

import yaml

import spectral_bias

ROOT = Path(__file__).resolve().parents[1]


def _book_entry(text: str) -> dict:
    block = re.search(r"```bibtex\n(@misc\{spectralbiasbook2026,.*?\n\})\n```", text, re.S)
    assert block, "cite.md has no ```bibtex block with the @misc{spectralbiasbook2026 entry"
    return dict(re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?$", block.group(1), re.M))


def test_the_book_entry_matches_the_configuration_and_the_package():
    book = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    entry = _book_entry((ROOT / "cite.md").read_text(encoding="utf-8"))
    assert entry["title"].startswith(book["title"] + ":")
    assert entry["author"] == "{" + book["author"] + "}"
    assert entry["url"] == book["repository"]["url"]
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M).group(1)
    assert spectral_bias.__version__ == version
    assert entry["howpublished"].endswith(f"version {version}")


def test_the_page_is_not_a_notebook_and_has_no_twin():
    text = (ROOT / "cite.md").read_text(encoding="utf-8")
    assert "{code-cell}" not in text and "kernelspec" not in text
    assert not (ROOT / "cite.ipynb").exists()


def test_references_bib_holds_the_same_title_and_author():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    ours = _book_entry((ROOT / "cite.md").read_text(encoding="utf-8"))
    entry = re.search(r"@misc\{spectralbiasbook2026,(.*?)\n\}", bib, re.S).group(1)
    fields = dict(re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?$", entry, re.M))
    assert fields["title"].lower() == ours["title"].lower()
    assert fields["author"] == ours["author"]
