"""Build tooling for the book's notebook twins; not needed to use the package.

- :mod:`spectral_bias.booktools.notebooks`: the .ipynb twin of every chapter (Colab, Binder, a downloaded notebook)
  and the student edition; ``python -m spectral_bias.booktools.notebooks`` (``make notebooks``, ``make student``).
- :mod:`spectral_bias.booktools.myst_plain`: the book's MyST Markdown rewritten as plain Markdown for stock Jupyter.

Both work on a checkout of the book (its ``_toc.yml``, ``_config.yml``, ``references.bib`` and pages) and need the
book's build requirements (jupytext, nbformat, PyYAML), which the package itself does not depend on.
"""
