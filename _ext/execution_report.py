"""Sphinx extension: write each notebook's execution record to ``<html>/reports/execution.json``.

myst-nb keeps, per document, the runtime and success of its last execution (``exec_data``); the post-build checks
read this file to print per-chapter times and fail a chapter that runs too long.
"""

import json
from pathlib import Path


def _write(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from myst_nb.sphinx_ import NbMetadataCollector

    records = {}
    for docname, data in NbMetadataCollector.get_doc_data(app.env).items():
        exec_data = data.get("exec_data")
        if exec_data:
            records[docname] = {k: exec_data.get(k) for k in ("runtime", "method", "succeeded", "error")}
    out = Path(app.outdir) / "reports"
    out.mkdir(parents=True, exist_ok=True)
    (out / "execution.json").write_text(json.dumps(records, indent=2, sort_keys=True))


def setup(app):
    app.connect("build-finished", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
