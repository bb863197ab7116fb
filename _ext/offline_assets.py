"""Sphinx extension: the offline site's assets, each only when present.

Serves ``_vendor/`` (the browser libraries that ``make assets`` vendors: MathJax, require.js, the widget manager) as
an html_extra_path, i.e. at ``_static/vendor/...``, and uses ``_static/favicon.svg`` as the favicon, so that a
minimal book built from this _config.yml elsewhere still builds without warnings. (A real build without
``make assets`` is caught by the browser test: untypeset equations, 404s in the console.)
"""

from __future__ import annotations

from pathlib import Path


def _offline_assets(app, config):
    srcdir = Path(app.srcdir)
    vendor = srcdir / "_vendor"
    if vendor.is_dir() and str(vendor) not in map(str, config.html_extra_path):
        config.html_extra_path = [*config.html_extra_path, str(vendor)]
    if not config.html_favicon and (srcdir / "_static" / "favicon.svg").is_file():
        config.html_favicon = str(srcdir / "_static" / "favicon.svg")


def setup(app):
    app.connect("config-inited", _offline_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
