"""The "How to cite" page is plain Markdown (no kernel, so no notebook twin); its BibTeX entry for the book is written
at build time by the ``book-citation`` directive from _config.yml and the package version
(``spectral_bias.booktools.citation``). The built page is checked in tests/postbuild/test_cite.py."""

import re
from pathlib import Path

import pytest
import yaml

import spectral_bias
from spectral_bias.booktools.citation import book_bibtex, book_bibtex_from_config

ROOT = Path(__file__).resolve().parents[1]


def fields(entry: str) -> dict:
    return dict(re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?$", entry, re.M))


def test_the_entry_for_given_values():
    assert book_bibtex("T", "A", "9.9", "https://x.org/r") == (
        "@misc{spectralbiasbook2026,\n"
        "  title        = {T: an Executable Textbook on Spectral Bias},\n"
        "  author       = {{A}},\n"
        "  year         = {2026},\n"
        "  howpublished = {Jupyter Book and Python package spectral\\_bias, version 9.9},\n"
        "  url          = {https://x.org/r}\n"
        "}"
    )
    assert "url" not in fields(book_bibtex("T", "A", "9.9"))


@pytest.mark.parametrize("bad", [{"title": ""}, {"author": None}, {"version": "  "}])
def test_missing_values_are_refused(bad):
    args = {"title": "T", "author": "A", "version": "1", **bad}
    name = next(iter(bad))
    with pytest.raises(ValueError, match=rf"^{name} must be a non-empty string"):
        book_bibtex(**args)


def test_the_entry_of_this_book_follows_its_configuration_and_version():
    book = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    got = fields(book_bibtex_from_config(ROOT / "_config.yml"))
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M).group(1)
    assert spectral_bias.__version__ == version
    assert got["title"].startswith(book["title"] + ": ")
    assert got["author"] == "{" + book["author"] + "}"
    assert got["url"] == book["repository"]["url"]
    assert got["howpublished"].endswith(f"version {version}")


def test_references_bib_holds_the_same_title_and_author():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    ours = fields(book_bibtex_from_config(ROOT / "_config.yml"))
    theirs = fields(re.search(r"@misc\{spectralbiasbook2026,(.*?)\n\}", bib, re.S).group(1))
    assert theirs["title"].lower() == ours["title"].lower()
    assert theirs["author"] == ours["author"]


def test_the_page_is_not_a_notebook_and_uses_the_directive():
    text = (ROOT / "cite.md").read_text(encoding="utf-8")
    assert "{code-cell}" not in text and "kernelspec" not in text
    assert "```{book-citation}" in text
    assert not (ROOT / "cite.ipynb").exists()
