"""Every number in a page's prose is computed on that page: a post-build check of the HTML book.

A number typed by hand into the text drifts from the computation it describes. Numbers in the prose should be pasted
from the cell that computes them (``myst_nb.glue`` and the ``{glue:text}`` role). This check reads each built page in
_toc.yml, collects the numbers of its prose, and flags every one that the page does not show anywhere else: in a cell
output, in a glued value, or as a literal in a code cell (a parameter the reader can see and change).

What counts as prose: the page's article text without code cells and their outputs, code and literal blocks, glued
values, cross-references (chapter, figure, equation, proposition numbers are links), citations, the bibliography,
the API reference's signatures and docstrings (``dl.py``), and exercises with their solutions (their numbers are what
the reader is asked to compute; ``spectral_bias.exercises`` checks them). Inline and display maths is checked
only where it states
a result: a decimal number after ``=`` or ``\\approx`` (``$\\lamgen(0)=3.3\\times10^{-5}$``); or where the whole
expression is a decimal number (``$0.16$``); the rest of the maths (exponents, coefficients, 2 in ``2\\eta``) is part
of the formulas.

A prose number is *shown* if some shown number rounds to it at the precision it is written with (``0.16`` matches a
printed ``0.1637``; a percentage also matches a printed fraction). Not checked, by design:

* integers from 0 to 12 (counts, orders, small parameters written out in words or digits) and years (1900-2099);
* numbers that name something: after Fig./Figs., Table, Prop., Lemma, Sec., eq., App., chapter, Part, Step, v
  (version), arXiv, with their lists and ranges ("Figs. 2 and 5", "Figs. 17-20"); array shapes such as 28×28;
  versions (3.2.2, Python 3.11, CC BY 4.0);

and the short allow-list below: the constants of the EDM set-up (Karras et al. 2022), and values quoted from the
paper (Wang & Pehlevan 2025, arXiv:2503.03206), accepted only on pages that cite it.
"""

from __future__ import annotations

import math
import re

import pytest
from bs4 import BeautifulSoup
from conftest import toc_files

# EDM constants (Karras et al. 2022): sigma_min, sigma_max, sigma_data, P_mean, P_std, rho.
EDM_CONSTANTS = {
    0.002: "sigma_min",
    80.0: "sigma_max",
    0.5: "sigma_data",
    0.25: "sigma_data^2",
    1.2: "P_mean = -1.2, P_std = 1.2",
    7.0: "rho",
}
# Values quoted from Wang & Pehlevan (2025), arXiv:2503.03206 (Sec. 7, Figs. 3 and 9): exponents of the MLP-UNet
# on rotated Gaussian data (1.08 for d = 256; 1.05 / 1.13 for d = 512) and on FFHQ 32x32 (0.48 increasing, R² 0.97,
# 57 modes; 0.35 decreasing, R² 0.92, 2,914 modes), data dimensions 256, 512, 3072, and the width of its
# convolutional UNet (128 base channels); its training settings (Sec. 7 and App.: 100,000 steps for the MLP on
# images, 50,000 for the CNNs, 5,000 on Gaussian data; batches of 1,024 and 2,048; 20 Heun steps) and its compute
# (App. I.1: 20 minutes to 2 hours per MLP run, 5 to 8 hours per CNN run).
PAPER_VALUES = {
    1.08,
    1.05,
    1.13,
    0.48,
    0.35,
    0.97,
    0.92,
    57.0,
    2914.0,
    256.0,
    512.0,
    3072.0,
    128.0,
    100000.0,
    50000.0,
    5000.0,
    1024.0,
    2048.0,
    20.0,
}
PAPER_CITATION = "wang2025spectral"

REFERENCE_WORDS = (
    r"Figs?\.|Figures?|Tables?|Props?\.|Propositions?|Lemmas?|Theorems?|Thm\.|Corollary|Secs?\.|"
    r"Sections?|§|[Ee]qs?\.|[Ee]quations?|App\.|Appendix|Appendices|[Cc]hapters?|Parts?|Steps?|"
    r"Exercises?|Definitions?|Remarks?|Algorithms?|arXiv:?|v"
)
# the reference word, then possibly a list/range of labels before the number: "Figs. 2, 5 and 6", "Figs. 17–20"
REFERENCE_BEFORE = re.compile(rf"(?:{REFERENCE_WORDS})\s*(?:[\dA-Z][\w.]*\s*(?:,|and|or|to|–|-|/)\s*)*$")
PROSE_NUMBER = re.compile(r"(?<![\w.\-−])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w]|\.\d)")
SHOWN_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?![\d.])|\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?")
SHAPE = re.compile(r"\d+\s*[×x]\s*\d+(?:\s*[×x]\s*\d+)?")
VERSION = re.compile(
    r"\d+\.\d+\.\d+|(?:Python|CC BY(?:-[A-Z]+)*|PyTorch|torch|NumPy|Jupyter Book|Sphinx|MathJax|"
    r"version)\s*\d+(?:\.\d+)*"
)
MATH_RESULT = re.compile(
    r"(?:=|\\approx|≈|\\simeq|^)\s*(\d+\.\d+)(?:\s*\\times\s*10\^\{?(-?\d+)\}?)?\s*$|"
    r"(?:=|\\approx|≈|\\simeq)\s*(\d+\.\d+)(?:\s*\\times\s*10\^\{?(-?\d+)\}?)?"
)


def _value(token: str) -> tuple[float, int]:
    """(value, decimals) of a prose number such as '20,000' or '0.16'."""
    token = token.replace(",", "")
    decimals = len(token.split(".")[1]) if "." in token else 0
    return float(token), decimals


def shown_numbers(texts) -> list[float]:
    """Every number that occurs in the given texts (outputs, glued values, code)."""
    out = []
    for text in texts:
        for m in SHOWN_NUMBER.finditer(text):
            out.append(float(m.group(0).replace("_", "").replace(",", "").rstrip(".")))
    return out


def is_shown(value: float, decimals: int, shown, *, percent=False, significant=False) -> bool:
    """True if some shown number, rounded like the prose number, equals it (percentages also match fractions)."""
    if significant:  # mantissa x 10^e: compare at the mantissa's number of significant digits
        tol = 0.5 * 10 ** (math.floor(math.log10(abs(value))) - decimals) if value else 0.5
    else:
        tol = 0.5 * 10 ** (-decimals)
    tol += 1e-9 * max(1.0, abs(value))
    for u in shown:
        for cand in (u, 100 * u) if percent else (u,):
            if abs(abs(cand) - value) <= tol:
                return True
    return False


def prose_candidates(text: str):
    """(token, value, decimals, percent) for every number of plain prose text that the rules above check."""
    text = SHAPE.sub(" ", VERSION.sub(" ", text))
    for m in PROSE_NUMBER.finditer(text):
        token = m.group(0)
        value, decimals = _value(token)
        if decimals == 0 and (value <= 12 or 1900 <= value <= 2099):
            continue
        if REFERENCE_BEFORE.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        percent = bool(re.match(r"\s*(%|per ?cent)", text[m.end() : m.end() + 9]))
        yield token, value, decimals, percent


def math_candidates(tex: str):
    """(token, value, significant digits after the first) for results stated in maths: '= 3.3\\times10^{-5}'."""
    tex = re.sub(r"^\\[(\[]|\\[)\]]$", "", tex.strip()).strip()  # MathJax delimiters \( \) and \[ \]
    for m in MATH_RESULT.finditer(tex):
        mant, exp = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = float(mant) * (10 ** int(exp) if exp else 1)
        yield m.group(0), value, len(mant.split(".")[1]), exp is not None


def allowed(value: float, cites_paper: bool) -> bool:
    return any(abs(value - c) < 1e-12 for c in EDM_CONSTANTS) or (
        cites_paper and any(abs(value - c) < 1e-12 for c in PAPER_VALUES)
    )


def unshown_numbers(prose_texts, math_texts, shown, cites_paper):
    """The prose numbers of one page that are neither shown on it nor allowed; [(token, context)]."""
    bad = []
    for text in prose_texts:
        for token, value, decimals, percent in prose_candidates(text):
            if not allowed(value, cites_paper) and not is_shown(value, decimals, shown, percent=percent):
                i = text.find(token)
                bad.append((token, " ".join(text[max(0, i - 60) : i + 40].split())))
    for tex in math_texts:
        for token, value, decimals, scientific in math_candidates(tex):
            if not allowed(value, cites_paper) and not is_shown(value, decimals, shown, significant=scientific):
                bad.append((token, " ".join(tex[:100].split())))
    return bad


# ----------------------------------------------------------------------------------------------------- HTML

REMOVE = [
    "div.cell",
    "div.output",
    "pre",
    "div.highlight",
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "a.headerlink",
    "div.toctree-wrapper",
    "dl.py",
    "div.bibliography",
    "dl.citation",
    "div.citation",
    "span.eqno",
    "div.prev-next-area",
    "div.bd-sidebar",
    "div.bd-toc",
    "div.sphinx-bs",
    "div.admonition-edit",
    "span.pasted-text",
    "div.pasted-math",
    "span.pasted-inline",
    "div.exercise",
    "div.solution",
]


def page_parts(html: str):
    """(prose texts, maths texts, shown texts, cites the paper) of one built page."""
    doc = BeautifulSoup(html, "html.parser")
    main = doc.select_one("article") or doc.select_one("main") or doc
    shown = [
        el.get_text(" ")
        for el in main.select(
            "div.cell_output, div.output, div.cell_input, span.pasted-text, div.pasted-math, span.pasted-inline"
        )
    ]
    cites_paper = (
        any(
            PAPER_CITATION in (a.get("href") or "") or PAPER_CITATION in (a.get("id") or "") for a in main.find_all("a")
        )
        or re.search(r"Wang (and|&) Pehlevan", main.get_text()) is not None
    )
    for sel in REMOVE:
        for el in main.select(sel):
            el.decompose()
    for a in main.find_all("a"):  # cross-references and citations name things; they are not results
        cls = a.get("class") or []
        href = a.get("href") or ""
        if "reference" in cls or href.startswith("#") or "bibliography" in href:
            a.decompose()
    math_texts = []
    for el in main.select("span.math, div.math"):
        math_texts.append(el.get_text(" "))
        el.replace_with(" ")
    for code in main.find_all(["code", "tt", "kbd", "samp"]):
        code.replace_with(" ")
    prose = [
        p.get_text(" ")
        for p in main.find_all(["p", "li", "td", "th", "dd", "dt", "figcaption", "caption", "h1", "h2", "h3", "h4"])
    ]
    return prose, math_texts, shown, cites_paper


# Pages without computed prose numbers, skipped: the map of the paper (its tables are lists of figure and panel
# numbers, v2 and v3 — names, not values) and the API reference (generated from the package's docstrings).
NOT_CHECKED = {"paper_map", "api"}
PAGES = [p for p in toc_files() if p not in NOT_CHECKED]


@pytest.mark.parametrize("page", PAGES)
def test_every_prose_number_is_computed_on_its_page(html_dir, page):
    prose, maths, shown_texts, cites = page_parts((html_dir / f"{page}.html").read_text(encoding="utf-8"))
    bad = unshown_numbers(prose, maths, shown_numbers(shown_texts), cites)
    # one report per number and context
    bad = list(dict.fromkeys(bad))
    assert not bad, (
        f"{page}: {len(bad)} number(s) in the prose that the page neither prints nor computes "
        "(glue them from the cell that computes them; see this file's docstring):\n"
        + "\n".join(f"  {tok!r}: ...{ctx}..." for tok, ctx in bad)
    )


# ------------------------------------------------------------------ the rules themselves, without a built book


def test_rules_flag_a_typed_number_and_accept_shown_ones():
    shown = shown_numbers(["alpha = 1.0221, 95% CI [1.020 1.025]", "x = rng.normal(size=20_000)", "0.627"])
    prose = ["The exponent is 1.02 over 20,000 samples, 63 % excess.", "The exponent is 0.35 here."]
    bad = unshown_numbers(prose, [], shown, cites_paper=False)
    assert [tok for tok, _ in bad] == ["0.35"]
    # quoted from the paper on a page that cites it: allowed; on a page that does not: flagged
    assert unshown_numbers(prose[1:], [], shown, cites_paper=True) == []
    # names of things and small integers are not results
    names = [
        "Figs. 17–20 and Prop. 4.2 of chapter 11, Table 1, Sec. 5.1, arXiv:2503.03206, 28×28, in 2025, 3 modes",
        "Python 3.11, CC BY 4.0, MathJax 3.2.2",
    ]
    assert unshown_numbers(names, [], [], cites_paper=False) == []
    # results stated in maths are checked, with scientific notation at its precision
    assert unshown_numbers([], [r"\hat\lambda(0)=3.3\times10^{-5}"], [3.27e-5], False) == []
    assert [t for t, _ in unshown_numbers([], [r"\hat\lambda(0)=3.3\times10^{-5}"], [4.1e-5], False)] != []
    assert unshown_numbers([], [r"\sigma_d = 0.5"], [], False) == []  # an EDM constant
    assert [t for t, _ in unshown_numbers([], [r"\(0.16\)", r"2\eta\lambda_k"], [0.1], False)] == ["0.16"]


def test_page_parts_strip_code_outputs_citations_and_read_glue():
    html = """<html><body><article>
      <p>We find <span class="pasted-text">0.16</span> and 0.16 again, see <a class="reference internal"
         href="#eq-1">(12)</a> and <a class="reference internal" href="bibliography.html#id5">Wang and Pehlevan,
         2025</a>; also 4.75 typed by hand and <span class="math notranslate nohighlight">\\(x = 2.5\\)</span>.</p>
      <div class="cell"><div class="cell_input"><pre>n = 20_000</pre></div>
        <div class="cell_output"><pre>alpha = 1.0221</pre></div></div>
    </article></body></html>"""
    prose, maths, shown, cites = page_parts(html)
    bad = unshown_numbers(prose, maths, shown_numbers(shown), cites)
    assert sorted(tok for tok, _ in bad) == ["4.75", "= 2.5"]
