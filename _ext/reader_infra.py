"""Sphinx extension for the reader infrastructure (issue 6).

0. Offline assets: serve `_vendor/` (vendored by `make assets`) as an html_extra_path, i.e. at _static/vendor/...,
   and use `_static/favicon.svg` as the favicon, each only when present, so that a minimal book built from this
   _config.yml elsewhere still builds without warnings. (A real build without `make assets` is caught by the
   browser test: untypeset equations, 404s in the console.)
1. Every page: drop duplicate <script> entries. sphinx-thebe 0.3.1 registers its inline configuration script
   after the HTML builder has started, so Sphinx 7 lists it twice (once with filename None, once with ''), and the
   second copy throws "Identifier 'THEBE_JS_URL' has already been declared" in every page's console.
2. Student edition (`sb_student_edition = True`, set by the config that `make student` generates): remove every
   exercise solution from the doctrees (plain {solution} blocks AND gated {solution-start}...{solution-end} blocks
   with their code cells and outputs; sphinx-exercise's own `hide_solutions` leaves the gated content in place), and
   replace the downloadable sources (`_sources/*.md`, `_sources/*.ipynb`) with solution-free versions.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.transforms import SphinxTransform

ROOT = Path(__file__).resolve().parents[1]


def _offline_assets(app, config):
    srcdir = Path(app.srcdir)
    vendor = srcdir / "_vendor"
    if vendor.is_dir() and str(vendor) not in map(str, config.html_extra_path):
        config.html_extra_path = [*config.html_extra_path, str(vendor)]
    if not config.html_favicon and (srcdir / "_static" / "favicon.svg").is_file():
        config.html_favicon = str(srcdir / "_static" / "favicon.svg")


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    files = getattr(app.builder, "_js_files", None)
    if not files:
        return
    seen, unique = set(), []
    for js in files:
        key = (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    files[:] = unique


class RemoveSolutions(SphinxTransform):
    """Student edition: delete solution nodes (runs after sphinx-exercise merges gated solutions, priority 10)."""

    default_priority = 15

    def apply(self, **kwargs):
        if not self.config.sb_student_edition:
            return
        from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

        for cls in (solution_node, solution_start_node, solution_end_node):
            for node in list(self.document.findall(cls)):
                node.parent.remove(node)


def _student_sources(app, exception):
    """Student edition: overwrite the downloadable page sources with their solution-free versions."""
    if exception is not None or not app.config.sb_student_edition or app.builder.format != "html":
        return
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_notebooks as mk
    finally:
        sys.path.pop(0)
    sources = Path(app.outdir) / "_sources"
    for docname in app.env.found_docs:
        src = Path(app.env.doc2path(docname))
        if src.suffix != ".md":
            continue
        text = src.read_text(encoding="utf-8")
        for out in (sources / f"{docname}.md", sources / f"{docname}.md.txt"):
            if out.exists():
                out.write_text(mk.strip_solutions(text), encoding="utf-8")
        ipynb = sources / f"{docname}.ipynb"
        if ipynb.exists():
            ipynb.write_text(mk.notebook_text(src, student=True), encoding="utf-8")


def setup(app):
    app.add_config_value("sb_student_edition", False, "env")
    app.connect("config-inited", _offline_assets)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.add_transform(RemoveSolutions)
    app.connect("build-finished", _student_sources)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
