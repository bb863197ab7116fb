"""Sphinx extension: the student edition (``sb_student_edition = True``, set by the config that ``make student``
generates; off in the reader's book).

Removes every exercise solution from the doctrees (plain {solution} blocks AND gated {solution-start} ...
{solution-end} blocks with their code cells and outputs; sphinx-exercise's own ``hide_solutions`` leaves the gated
content in place), and replaces the downloadable sources (``_sources/*.md``, ``_sources/*.ipynb``) with
solution-free versions (:mod:`spectral_bias.booktools.notebooks`).
"""

from __future__ import annotations

from pathlib import Path

from sphinx.transforms import SphinxTransform


class RemoveSolutions(SphinxTransform):
    """Delete solution nodes (runs after sphinx-exercise merges gated solutions, priority 10)."""

    default_priority = 15

    def apply(self, **kwargs):
        if not self.config.sb_student_edition:
            return
        from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

        for cls in (solution_node, solution_start_node, solution_end_node):
            for node in list(self.document.findall(cls)):
                node.parent.remove(node)


def _student_sources(app, exception):
    """Overwrite the downloadable page sources with their solution-free versions."""
    if exception is not None or not app.config.sb_student_edition or app.builder.format != "html":
        return
    from spectral_bias.booktools import notebooks as mk

    root, sources = Path(app.srcdir).resolve(), Path(app.outdir) / "_sources"
    for docname in app.env.found_docs:
        src = Path(app.env.doc2path(docname)).resolve()
        if src.suffix != ".md":
            continue
        text = src.read_text(encoding="utf-8")
        for out in (sources / f"{docname}.md", sources / f"{docname}.md.txt"):
            if out.exists():
                out.write_text(mk.strip_solutions(text), encoding="utf-8")
        ipynb = sources / f"{docname}.ipynb"
        if ipynb.exists():
            ipynb.write_text(mk.notebook_text(src, student=True, root=root), encoding="utf-8")


def setup(app):
    app.add_config_value("sb_student_edition", False, "env")
    app.add_transform(RemoveSolutions)
    app.connect("build-finished", _student_sources)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
