"""House style of the book's pages (intro.md, chapters/*.md, problems/*.md), read from their MyST source.

Every figure a code cell draws carries a caption and a name (cell metadata ``mystnb: figure: {caption, name}``),
so that it is numbered and can be cited; every name is cited in its page's prose with ``{numref}``; a captioned
cell draws one figure; and a visible cell does not carry more than ``MAX_VISIBLE_PLOT_LINES`` lines of plotting
code (longer plotting code is folded with ``hide-input`` or lives in the package), so that what a reader sees
between the proofs is the computation.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "intro.md", *ROOT.glob("chapters/*.md"), *ROOT.glob("problems/*.md")])
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?P<body>.*?)^```$", re.S | re.M)
NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?(fig-[^`>]+)>?`")
# names a figure cell draws through: pyplot, a figure, its axes
PLOT_ROOTS = re.compile(r"^(plt|fig\w*|axs?\d*|axes|ax_\w+|row|im)$")
MAX_VISIBLE_PLOT_LINES = 20


def cells(page: Path):
    """(line number, options dict, code) of each code cell of a MyST page."""
    text = page.read_text(encoding="utf-8")
    for m in CELL.finditer(text):
        body, opts = m.group("body"), {}
        if body.startswith("---\n"):
            end = body.index("\n---\n", 4)
            opts = yaml.safe_load(body[4:end]) or {}
            body = body[end + 5 :]
        yield text.count("\n", 0, m.start()) + 1, opts, body


def _root(node) -> str | None:
    """The name a call chain starts from: ``ax`` for ``ax.set(...)``, ``plt`` for ``plt.cm.x(...)``."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _top_level(tree):
    """Nodes of a cell outside function and class bodies (what runs when the cell runs)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def _is_show(node) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "show"
        and _root(node.func) == "plt"
    )  # fmt: skip


def draws(code: str) -> int:
    """How many figures a cell shows: its top-level ``plt.show()`` calls (0 when it only defines functions); a
    call inside a loop counts twice, as it may show several figures."""
    tree = ast.parse(code)
    n = sum(_is_show(node) for node in _top_level(tree))
    loops = [node for node in _top_level(tree) if isinstance(node, (ast.For, ast.While))]
    in_loop = any(_is_show(inner) for loop in loops for inner in ast.walk(loop))
    return n + in_loop


def plot_lines(code: str) -> int:
    """Lines of the cell's top-level statements that only draw (a call on plt, a figure or its axes, or a
    ``plot_*`` helper; loops whose bodies only draw count whole)."""

    def drawing(stmt) -> bool:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            f = stmt.value.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            return bool(PLOT_ROOTS.match(_root(f) or "")) or name.startswith("plot_")
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            return bool(PLOT_ROOTS.match(_root(stmt.value.func) or "")) and _root(stmt.value.func) != "row"
        if isinstance(stmt, (ast.For, ast.If)):
            return all(drawing(s) for s in stmt.body + stmt.orelse)
        return False

    tree = ast.parse(code)
    return sum(s.end_lineno - s.lineno + 1 for s in tree.body if drawing(s))


def test_the_checks_see_figures_and_plotting_code():
    """The detectors on cells written to be caught and cells written to pass."""
    fig_cell = "fig, ax = plt.subplots()\nfor k in range(3):\n    ax.plot(x, y[k])\nax.set(xlabel='t')\nplt.show()\n"
    assert draws(fig_cell) == 1 and plot_lines(fig_cell) == 5
    assert draws("def f():\n    plt.show()\n") == 0  # a helper defined for later cells draws nothing yet
    assert draws("for n in ns:\n    plt.plot(n)\n    plt.show()\n") == 2  # a figure per pass: flagged below
    assert draws("y = f(x)\nprint(y)\n") == 0 and plot_lines("y = f(x)\nprint(y)\n") == 0
    assert plot_lines("plot_emergence(axs[1], lam, an)\nres = run(cfg)\n") == 1


def _figure_cells():
    for page in PAGES:
        for line, opts, code in cells(page):
            yield page, line, opts, code


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_figure_has_a_caption_a_name_and_a_citation(page):
    text = page.read_text(encoding="utf-8")
    cited = set(NUMREF.findall(text))
    problems = []
    for line, opts, code in cells(page):
        where = f"{page.relative_to(ROOT)}:{line}"
        fig = (opts.get("mystnb") or {}).get("figure")
        n = draws(code)
        if n and not fig:
            problems.append(f"{where}: draws a figure without mystnb.figure (caption, name)")
        if fig:
            if not str(fig.get("caption") or "").strip():
                problems.append(f"{where}: figure without a caption")
            name = str(fig.get("name") or "")
            if not name.startswith("fig-"):
                problems.append(f"{where}: figure name {name!r} does not start with 'fig-'")
            elif name not in cited:
                problems.append(f"{where}: {name} is never cited with {{numref}} in the page")
        if fig and n > 1:
            problems.append(f"{where}: a captioned cell must show one figure (one plt.show(), not in a loop)")
    assert not problems, "\n".join(problems)


def test_figure_names_are_unique_and_every_citation_resolves():
    names = [
        (opts.get("mystnb") or {}).get("figure", {}).get("name")
        for page, _, opts, _ in _figure_cells()
        if (opts.get("mystnb") or {}).get("figure")
    ]
    dup = sorted({n for n in names if names.count(n) > 1})
    assert not dup, f"figure names used twice: {dup}"
    cited = {n for page in PAGES for n in NUMREF.findall(page.read_text(encoding="utf-8"))}
    assert not cited - set(names), f"{{numref}} to figures that do not exist: {sorted(cited - set(names))}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_long_plotting_code_is_folded(page):
    problems = [
        f"{page.relative_to(ROOT)}:{line}: {n} lines of visible plotting code (fold it with hide-input or move "
        "it into the package)"
        for line, opts, code in cells(page)
        if "hide-input" not in (opts.get("tags") or []) and (n := plot_lines(code)) > MAX_VISIBLE_PLOT_LINES
    ]
    assert not problems, "\n".join(problems)
