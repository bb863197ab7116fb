"""Sphinx extension for the API reference page (api.md): one autodoc entry, hence one anchor and one objects.inv
entry, per public name of a module.

``{sb-api-module} spectral_bias.theory`` writes, for every name in the module's ``__all__``:

- a summary table (name linked to its entry, first line of its docstring), and
- an autodoc entry (``autofunction`` / ``autoclass`` / ``autodata``) under the module, so that its anchor is
  ``api.html#spectral_bias.theory.<name>`` whichever submodule defines it, and Sphinx lists it in ``objects.inv``
  (other Sphinx projects link to it with intersphinx: ``:py:func:`spectral_bias.theory.<name>```).

Docstrings are shown as written (a literal block): they are written to be read with ``help()`` in a notebook
(NumPy-style sections, Unicode maths such as ``τ* ∝ λ^-α``), not as reStructuredText, and parsing them as such would
turn their ``*``, ``|`` and ``_`` into markup errors.
"""

from __future__ import annotations

import importlib
import inspect

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


def _escape(text: str) -> str:
    for ch in "\\*`|_[]<>":
        text = text.replace(ch, "\\" + ch)
    return text


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    first = " ".join(doc.strip().split("\n\n")[0].split())
    return first if len(first) <= 160 else first[:157] + "..."


class ApiModule(SphinxDirective):
    required_arguments = 1
    option_spec = {"exclude": directives.unchanged}

    def run(self):
        name = self.arguments[0]
        mod = importlib.import_module(name)
        names = [n for n in getattr(mod, "__all__", []) if not n.startswith("_")]
        exclude = set((self.options.get("exclude") or "").split())
        rows, entries = [], []
        for n in names:
            if n in exclude:
                continue
            obj = getattr(mod, n)
            if inspect.ismodule(obj):
                continue
            if inspect.isclass(obj):
                role, auto = "py:class", "autoclass"
            elif callable(obj):
                role, auto = "py:func", "autofunction"
            else:
                role, auto = "py:data", "autodata"
            rows += [f"   * - :{role}:`~{name}.{n}`", f"     - {_escape(_summary(obj)) or '..'}"]
            entries += [f".. {auto}:: {name}.{n}", ""]
            if auto == "autoclass":
                entries[-1:] = ["   :members:", ""]
        head = _escape(_summary(mod))
        rst = [
            head,
            "",
            ".. list-table::",
            "   :widths: 30 70",
            "",
            *rows,
            "",
            f".. currentmodule:: {name}",
            "",
            *entries,
        ]
        holder = nodes.container()
        self.state.nested_parse(StringList(rst, source=f"<sb-api-module {name}>"), self.content_offset, holder)
        return list(holder.children)


def _literal_docstring(app, what, name, obj, options, lines):
    """Show the docstring verbatim (see the module docstring)."""
    if not lines or what == "module":
        lines[:] = []
        return
    text = [ln.rstrip() for ln in lines]
    while text and not text[-1]:
        text.pop()
    lines[:] = ["::", ""] + ["   " + ln if ln else "" for ln in text] + [""]


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.add_directive("sb-api-module", ApiModule)
    app.connect("autodoc-process-docstring", _literal_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
