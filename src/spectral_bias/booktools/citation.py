"""The book's BibTeX entry, built from its configuration (title, author, repository address) and the package version.

Used by the ``book-citation`` directive of ``_ext/book_citation.py`` on the "How to cite" page, so that the page
needs no kernel (and so no notebook twin) while its entry can never drift from ``_config.yml`` or the package.
"""

from __future__ import annotations

from pathlib import Path

KEY = "spectralbiasbook2026"
SUBTITLE = "an Executable Textbook on Spectral Bias"
YEAR = 2026


def book_bibtex(title: str, author: str, version: str, url: str | None = None) -> str:
    """The ``@misc`` entry for the book: ``title`` and ``author`` as in ``_config.yml``, the package ``version``,
    and the repository ``url`` when the book has one."""
    for name, value in (("title", title), ("author", author), ("version", version)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    fields = [
        ("title", f"{{{title}: {SUBTITLE}}}"),
        ("author", f"{{{{{author}}}}}"),  # double braces: a corporate author, not "Last, First"
        ("year", f"{{{YEAR}}}"),
        ("howpublished", f"{{Jupyter Book and Python package spectral\\_bias, version {version}}}"),
    ]
    if url:
        fields.append(("url", f"{{{url}}}"))
    body = ",\n".join(f"  {name:<12} = {value}" for name, value in fields)
    return f"@misc{{{KEY},\n{body}\n}}"


def book_bibtex_from_config(config: Path) -> str:
    """:func:`book_bibtex` for the book whose ``_config.yml`` is ``config`` and the installed package."""
    import yaml

    import spectral_bias

    book = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
    url = (book.get("repository") or {}).get("url")
    return book_bibtex(book.get("title", ""), book.get("author", ""), spectral_bias.__version__, url)
