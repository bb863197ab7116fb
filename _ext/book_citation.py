"""Sphinx extension: the ``book-citation`` directive writes the book's BibTeX entry (title, author and repository
address from the book's configuration, version from the package) as a code block; see
``spectral_bias.booktools.citation``."""

from __future__ import annotations

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

import spectral_bias
from spectral_bias.booktools.citation import book_bibtex


class BookCitation(SphinxDirective):
    has_content = False

    def run(self):
        cfg = self.env.config
        url = (cfg.html_theme_options or {}).get("repository_url")
        text = book_bibtex(cfg.html_title, cfg.author, spectral_bias.__version__, url)
        block = nodes.literal_block(text, text, language="bibtex")
        return [block]


def setup(app):
    app.add_directive("book-citation", BookCitation)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
