"""Every notebook twin renders in stock Jupyter: its maths typesets with JupyterLab's MathJax, no MyST is left.

JupyterLab 4 typesets Markdown maths with MathJax 3.2 and all of its TeX packages (`AllPackages`), none of the
book's macros. This test takes the Markdown of every twin exactly as `make notebooks` writes it, cuts out the maths
as JupyterLab does (`$...$`, `$$...$$`, `\\begin{env}...\\end{env}`, never inside code), and typesets each formula in
node with the MathJax 3.2.2 the book vendors (`make assets`), the `noerrors`/`noundefined` packages removed so that
an unknown macro or a syntax error comes back as an `merror`. It fails on any such error and on MyST syntax left in
the Markdown (directive fences, roles such as {eq}`...`, `(label)=` targets, `:::`, labelled `$$`).
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from spectral_bias.booktools import myst_plain
from spectral_bias.booktools import notebooks as mk

ROOT = Path(__file__).resolve().parents[1]

MATHJAX = ROOT / "_vendor" / "_static" / "vendor" / "mathjax"
SOURCES = mk.notebook_sources()

TYPESET = r"""
const fs = require('fs');
const items = JSON.parse(fs.readFileSync(0, 'utf8'));
require(process.argv[process.argv.length - 1] + '/node-main.js').init({
  // output/svg: some TeX packages (bussproofs) need an output jax to load
  loader: {load: ['input/tex-full', 'output/svg']},
  tex: {packages: {'[-]': ['noundefined', 'noerrors']}},
  startup: {typeset: false},
}).then((MathJax) => {
  const errors = items.map(([tex, display]) => {
    try {
      const mml = MathJax.tex2mml(tex, {display});
      if (!mml.includes('<merror') && !/mathcolor="red"/.test(mml)) return null;
      const m = mml.match(/data-mjx-error="([^"]*)"/);
      return m ? m[1] : 'merror';
    } catch (e) { return 'exception: ' + e.message; }
  });
  process.stdout.write(JSON.stringify({version: MathJax.version, errors}));
}).catch((e) => { console.error(e.message); process.exit(2); });
"""


def typeset(formulas: list[tuple[str, bool]]) -> tuple[str, list]:
    """(MathJax version, one error message or None per formula)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: it is needed for the notebook render test (apt-get install nodejs)")
    if not (MATHJAX / "node-main.js").is_file():
        pytest.fail(f"{MATHJAX} is missing: run `make assets`")
    proc = subprocess.run(
        [node, "-e", TYPESET, "--", str(MATHJAX)],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    return out["version"], out["errors"]


def _markdown_cells(md: Path) -> list[str]:
    nb = json.loads(mk.notebook_text(md, ref="v0.0.0"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def test_the_typesetter_catches_what_jupyter_would_show_as_an_error():
    """The check is not vacuous: a book macro, a bad formula and a correct one."""
    version, errors = typeset(
        [
            (r"\bx + \sigmax", False),
            (r"x^{", True),
            (r"\mathbf{x}^\top\tag{4.1}", True),
            (r"\operatorname{Ei}(-a)\boldsymbol{\mu}", False),
        ]
    )
    assert version.startswith("3.2"), version
    assert errors[0] and "Undefined control sequence" in errors[0]
    assert errors[1] and errors[2] is None and errors[3] is None


def test_every_twin_typesets_and_has_no_myst_left():
    formulas, where, leftover = [], [], []
    for md in SOURCES:
        rel = md.relative_to(ROOT)
        for k, cell in enumerate(_markdown_cells(md)):
            leftover += [f"{rel} (markdown cell {k}): {what}" for what in myst_plain.leftovers(cell)]
            for seg in myst_plain.math_segments(cell):
                formulas.append((seg.tex, seg.display))
                where.append(f"{rel} (markdown cell {k}): {seg.tex.strip()[:80]!r}")
    assert len(formulas) > 500, f"only {len(formulas)} formulas found: is the maths extraction broken?"
    _, errors = typeset(formulas)
    bad = [f"{w}: {e}" for w, e in zip(where, errors) if e]
    assert not leftover, "MyST syntax left in the twins:\n" + "\n".join(leftover[:40])
    assert not bad, f"{len(bad)} formulas do not typeset in JupyterLab's MathJax:\n" + "\n".join(bad[:40])


def test_converter_numbers_and_expands(tmp_path):
    """A small book: labels, equations, propositions, exercises, citations and macros become plain Markdown."""
    (tmp_path / "chapters").mkdir()
    (tmp_path / "_config.yml").write_text(
        "repository: {url: 'https://example.org/r', branch: main}\nbibtex_bibfiles: [refs.bib]\n"
        "sphinx:\n  config:\n    mathjax3_config:\n      tex:\n        macros:\n"
        "          bx: '\\mathbf{x}'\n          norm: ['\\lVert #1 \\rVert', 1]\n"
    )
    (tmp_path / "refs.bib").write_text("@article{ab2020,\n  author = {Alpha, Ann and Beta, Bob},\n  year = {2020}\n}\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/03_x\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    front = (
        "---\njupytext:\n  text_representation: {extension: .md, format_name: myst, format_version: 0.13}\n"
        "kernelspec: {display_name: Python 3, language: python, name: python3}\n---\n"
    )
    (tmp_path / "chapters" / "03_x.md").write_text(
        front
        + """
(ch-x)=
# The X chapter

$$
\\norm{\\bx}^2 = e^\\bx
$$ (eq-a)

```{prf:proposition} Big
:label: prop-big

By {eq}`eq-a` and {cite}`ab2020`, see {ref}`ch-x`.
```

```{prf:proof}
Trivial, `{eq}` in code stays.
```

```{exercise}
:label: ex-one
Prove Proposition {prf:ref}`prop-big`.
```

```{solution} ex-one
Done.
```

```{figure} fig.png
:name: fig-one
A figure, see {numref}`fig-one` and {numref}`Fig. %s <fig-one>`; {glue:text}`value`.
```
"""
    )
    md = tmp_path / "chapters" / "03_x.md"
    text = "\n\n".join(
        "".join(c["source"])
        for c in json.loads(mk.notebook_text(md, root=tmp_path, ref="v1"))["cells"]
        if c["cell_type"] == "markdown"
    )
    assert "\\lVert {\\mathbf{x}} \\rVert^2 = e^{\\mathbf{x}}\n\\tag{3.1}\n$$" in text
    assert "**Proposition 3.1** (Big)." in text
    assert "By (3.1) and Alpha & Beta (2020), see Chapter 3, *The X chapter*." in text
    assert "*Proof.*" in text and "`{eq}` in code stays" in text
    assert "**Exercise 3.1.**" in text and "Prove Proposition 3.1." in text
    assert "<summary><b>Solution to Exercise 3.1</b> (click to open)</summary>\n\nDone.\n\n</details>" in text
    assert "*Figure 3.1: A figure, see Figure 3.1 and Fig. 3.1; `value` (the value the notebook computes).*" in text
    assert myst_plain.leftovers(text) == []
    assert myst_plain.leftovers("```{note}\nx\n```\n(lab)=\nsee {eq}`a`") != []


def test_code_cell_figures_share_the_figure_numbering():
    """A code cell whose output myst-nb wraps in a figure (``mystnb: figure: {caption, name}``) is numbered with the
    figure directives of its page, in document order, and {numref} to it resolves to that number."""
    text = """# Chapter

```{code-cell} ipython3
---
mystnb:
  figure:
    caption: |
      First, computed.
    name: fig-first
tags: [hide-input]
---
plot()
```

```{code-cell} ipython3
print("no figure here")
```

```{figure} img.png
:name: fig-second
Second, an image.
```

```{code-cell} ipython3
---
mystnb:
  figure:
    caption: Third.
    name: fig-third
---
plot()
```

See {numref}`fig-first`, {numref}`fig-second` and {numref}`fig-third`.
"""
    book = myst_plain.Book()
    myst_plain.scan_page("chapters/07_x", text, book)
    assert {k: (t.kind, t.number) for k, t in book.targets.items() if k.startswith("fig-")} == {
        "fig-first": ("figure", "7.1"),
        "fig-second": ("figure", "7.2"),
        "fig-third": ("figure", "7.3"),
    }
    out = myst_plain.Converter("chapters/07_x", book)(text)
    assert "See Figure 7.1, Figure 7.2 and Figure 7.3." in out
    assert "*Figure 7.2: Second, an image.*" in out  # the directive keeps the number scan_page gave it


@pytest.mark.parametrize(
    "source, expected",
    [
        (":::{prf:lemma}\n:label: lem-a\nSmall.\n:::", "**Lemma 7.1.**\n\nSmall."),
        (":::{prf:proof}\nProved.\n:::", "*Proof.*\n\nProved.\n\n$\\blacksquare$"),
        (":::{exercise} Try it\nDo it.\n:::", "---\n\n**Exercise 7.1** (Try it).\n\nDo it."),
        (
            ":::{solution-start} nowhere\n:::\nMiddle.\n:::{solution-end}\n:::",
            "**Solution.**\n\nMiddle.\n\n*End of the solution.*",
        ),
        ("```{math}\n:label: eq-m\nc = d\n```\n\n```{math}\ne\n```", "$$\nc = d\n\\tag{7.1}\n$$\n\n$$\ne\n$$"),
        (
            "```{glue:figure} key\n:name: fig-g\nGlued.\n```\n\n```{glue} val\n```",
            "*Figure 7.1: Glued. (`key`: shown by the code cell that computes it above.)*\n\n"
            "*(`val`: shown by the code cell that computes it above.)*",
        ),
        ("```{image} a.png\n:alt: A\n```\n\n```{figure} b.png\n```", "![A](a.png)\n\n![](b.png)\n\n*Figure 7.1*"),
        (
            "```{table} T\n| a |\n|---|\n```\n\n```{list-table}\n* - x\n```\n\n```{csv-table} C\na\n```",
            "*Table 7.1: T*\n\n| a |\n|---|\n\n*Table 7.2*\n\n* - x\n\n*Table 7.3: C*\n\na",
        ),
        ("```{bibliography}\n```", "*(The bibliography is a page of the book.)*"),
        ("```{glossary}\nterm\n  : its meaning\n```", "**term**\nits meaning"),
        ("```{code-block} python extra\nx = 1\n```", "```python\nx = 1\n```"),
        ("```{note}\nN.\n```\n\n```{warning} Careful\nW.\n```", "**Note.**\n\nN.\n\n**Careful.**\n\nW."),
        ("```{admonition} Why?\nA.\n```\n\n:::{margin}\nM.\n:::", "**Why?**\n\nA.\n\n**Margin.**\n\nM."),
        ("```{somethingnew} Named\nS.\n```", "**Named.**\n\nS."),
    ],
)
def test_each_directive_kind_becomes_plain_markdown(source, expected):
    """One renderer per directive kind: numbered ones count per page and kind, the rest keep their body."""
    book = myst_plain.Book()
    myst_plain.scan_page("chapters/07_x", source, book)
    assert myst_plain.Converter("chapters/07_x", book)(source) == expected
