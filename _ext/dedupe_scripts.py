"""Sphinx extension: drop duplicate ``<script>`` entries from every page.

sphinx-thebe 0.3.1 registers its inline configuration script after the HTML builder has started, so Sphinx 7 lists
it twice (once with filename None, once with ''), and the second copy throws "Identifier 'THEBE_JS_URL' has already
been declared" in every page's console.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
