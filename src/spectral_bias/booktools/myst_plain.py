"""Turn the book's MyST Markdown into plain Markdown that stock Jupyter (JupyterLab, Colab, VS Code) renders.

The book's pages use Sphinx features that only exist inside the book: cross-references (`{eq}`, `{prf:ref}`,
`{ref}`, `{numref}`, `{doc}`, `{term}`, `{cite}`), labels (`(label)=`), directives (`{prf:proposition}`,
`{prf:proof}`, `{exercise}`, `{solution}`, admonitions, ...), labelled display maths (`$$ ... $$ (label)`) and the
MathJax macros defined once in `_config.yml` (`sphinx.config.mathjax3_config.tex.macros`). A notebook twin cannot
rely on any of them, so :func:`convert` rewrites a Markdown cell:

- macros are expanded inside maths (read from `_config.yml`, never copied);
- labelled equations get a `\\tag{N.k}` (N = the chapter number of the file name, k counts the page's labelled
  equations) and `{eq}` references become "(N.k)";
- proofs, propositions, lemmas, definitions, ... become a bold heading "Proposition N.k (title)." followed by the
  body; exercises "Exercise N.k", solutions "Solution to Exercise N.k";
- references become readable text (the target's number, or its heading), citations "Author & Author (year)";
- `(label)=` targets are dropped, unknown directives keep their body under a bold title.

:func:`math_segments` finds the maths of a Markdown text the way JupyterLab does before it typesets (`$$...$$`,
`$...$`, `\\begin{env}...\\end{env}`, never inside code); the render test uses it to typeset every twin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# ---------------------------------------------------------------------------------------------------------------
# maths
# ---------------------------------------------------------------------------------------------------------------
_FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(.*?)\s*$")
_MATH = re.compile(
    r"(?P<code>`+)(?:.+?)(?P=code)"  # inline code: skipped
    r"|\$\$(?P<display>.+?)\$\$"
    r"|(?<![\\$])\$(?P<inline>(?:[^$\n]|\n(?![ \t]*\n))+?)(?<!\\)\$"
    r"|\\begin\{(?P<env>[A-Za-z]+\*?)\}(?P<body>.*?)\\end\{(?P=env)\}",
    re.S,
)


@dataclass(frozen=True)
class Math:
    start: int
    end: int
    tex: str
    display: bool


def _code_block_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of fenced code blocks (backticks or tildes; never colon fences)."""
    spans, pos, open_ = [], 0, None
    directives: list[str] = []  # open directive fences (their closing fence is not a code block)
    for line in text.splitlines(keepends=True):
        m = _FENCE.match(line)
        if open_ is not None:
            if m and m.group(1)[0] == open_[1][0] and len(m.group(1)) >= len(open_[1]) and not m.group(2):
                spans.append((open_[0], pos + len(line)))
                open_ = None
        elif m and m.group(2).startswith("{"):
            directives.append(m.group(1))
        elif (
            m
            and not m.group(2)
            and directives
            and m.group(1)[0] == directives[-1][0]
            and len(m.group(1)) >= len(directives[-1])
        ):
            directives.pop()
        elif m and m.group(1)[0] in "`~":
            open_ = (pos, m.group(1))
        pos += len(line)
    if open_ is not None:
        spans.append((open_[0], len(text)))
    return spans


def math_segments(text: str) -> list[Math]:
    """The maths in Markdown `text`, outside code, with its position (``text[start:end]`` is the whole segment)."""
    out = []
    code = _code_block_spans(text)
    pos = 0
    for lo, hi in code + [(len(text), len(text))]:
        for m in _MATH.finditer(text, pos, lo):
            if m.group("code"):
                continue
            if m.group("display") is not None:
                out.append(Math(m.start(), m.end(), m.group("display"), True))
            elif m.group("inline") is not None:
                out.append(Math(m.start(), m.end(), m.group("inline"), False))
            else:
                out.append(Math(m.start(), m.end(), m.group(0), True))
        pos = hi
    return out


def book_macros(config: dict) -> dict[str, tuple[str, int]]:
    """The MathJax macros of the book's `_config.yml`: name -> (definition, number of arguments)."""
    tex = (((config.get("sphinx") or {}).get("config") or {}).get("mathjax3_config") or {}).get("tex") or {}
    out = {}
    for name, value in (tex.get("macros") or {}).items():
        if isinstance(value, str):
            out[name] = (value, 0)
        elif isinstance(value, list) and value and isinstance(value[0], str) and len(value) >= 2:
            out[name] = (value[0], int(value[1]))
        else:
            raise ValueError(f"macro {name!r} in _config.yml: expected a string or [definition, nargs], got {value!r}")
    return out


def _brace_arg(tex: str, i: int) -> tuple[str, int]:
    """The macro argument starting at tex[i] (after spaces): a {group} or one token. Returns (argument, end)."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        raise ValueError(f"a macro argument is missing at the end of {tex!r}")
    if tex[i] == "{":
        depth = 0
        for j in range(i, len(tex)):
            if tex[j] == "{" and (j == 0 or tex[j - 1] != "\\"):
                depth += 1
            elif tex[j] == "}" and tex[j - 1] != "\\":
                depth -= 1
                if depth == 0:
                    return tex[i + 1 : j], j + 1
        raise ValueError(f"unbalanced braces in {tex!r}")
    m = re.match(r"\\[A-Za-z]+|\\.|.", tex[i:], re.S)
    return m.group(0), i + len(m.group(0))


_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")


def expand_macros(tex: str, macros: dict[str, tuple[str, int]], _depth: int = 0) -> str:
    """`tex` with every macro of `macros` replaced by its definition (recursively, arguments substituted).

    A control word is the backslash and all the letters after it, as in TeX, so `\\R` never matches `\\Rightarrow`.
    After `^` or `_` the expansion is wrapped in braces so it stays one sub/superscript.
    """
    if _depth > 20:
        raise ValueError("macro expansion does not terminate (a macro refers to itself?)")
    out, pos = [], 0
    changed = False
    for m in _CONTROL_WORD.finditer(tex):
        if m.start() < pos:
            continue
        name = m.group(1)
        if name not in macros:
            continue
        body, nargs = macros[name]
        end = m.end()
        for k in range(1, nargs + 1):
            arg, end = _brace_arg(tex, end)
            body = body.replace(f"#{k}", arg)
        out.append(tex[pos : m.start()])
        # one token in TeX, so one group here: after ^ or _ and after a control word that may take it as its
        # argument (\dot\bx -> \dot{\mathbf{x}}, not \dot\mathbf{x})
        prev = tex[: m.start()].rstrip(" ")
        wrap = prev.endswith(("^", "_")) or re.search(r"\\[A-Za-z]+$", prev) is not None
        out.append("{" + body + "}" if wrap else body)
        pos, changed = end, True
    out.append(tex[pos:])
    result = "".join(out)
    return expand_macros(result, macros, _depth + 1) if changed else result


# ---------------------------------------------------------------------------------------------------------------
# labels and numbers of the whole book
# ---------------------------------------------------------------------------------------------------------------
_LABEL_LINE = re.compile(r"^\(([^()\s]+)\)=\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_EQ_CLOSE = re.compile(r"^\s*\$\$\s*\(([^()\s]+)\)\s*$")
_DIRECTIVE = re.compile(r"^\{([A-Za-z][\w:-]*)\}\s*(.*)$")
_OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*?)\s*$")

PRF_NAMES = {
    "proof": "Proof",
    "theorem": "Theorem",
    "lemma": "Lemma",
    "proposition": "Proposition",
    "corollary": "Corollary",
    "definition": "Definition",
    "remark": "Remark",
    "example": "Example",
    "conjecture": "Conjecture",
    "axiom": "Axiom",
    "criterion": "Criterion",
    "algorithm": "Algorithm",
    "observation": "Observation",
    "property": "Property",
    "assumption": "Assumption",
    "notation": "Notation",
}
ADMONITIONS = {
    "note",
    "warning",
    "tip",
    "hint",
    "important",
    "caution",
    "attention",
    "danger",
    "error",
    "seealso",
    "admonition",
    "margin",
    "sidebar",
    "topic",
    "dropdown",
    "epigraph",
    "card",
}


@dataclass
class Target:
    kind: str  # "equation", "section", "chapter", "exercise" or a prf kind ("proposition", ...)
    number: str  # "4.2" (empty for sections)
    title: str  # heading or directive title ("" if none)
    doc: str


@dataclass
class Book:
    """Every label of the book with its readable name, the citations and the page titles."""

    targets: dict[str, Target] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    chapter_numbers: dict[str, str] = field(default_factory=dict)
    citations: dict[str, str] = field(default_factory=dict)
    macros: dict[str, tuple[str, int]] = field(default_factory=dict)
    # numbers of the figure/table directives of each page, in order (code cells that carry a figure caption in
    # their metadata share the figure numbering, so a directive's number is not simply its rank among directives)
    block_numbers: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def chapter_number(doc: str) -> str:
    """ "4" for chapters/04_weights_to_samples, "" for a page without a number."""
    m = re.match(r"(\d+)_", Path(doc).name)
    return str(int(m.group(1))) if m else ""


def _numbered(prefix: str, k: int) -> str:
    return f"{prefix}.{k}" if prefix else str(k)


def _read_options(lines: list[str], start: int, stop: int) -> tuple[dict[str, str], int]:
    """The ``:name: value`` option lines of a directive from ``lines[start]`` on (before ``stop``): the options and
    the index of the first line after them."""
    opts, j = {}, start
    while j < stop and _OPTION.match(lines[j]):
        o = _OPTION.match(lines[j])
        opts[o.group(1)] = o.group(2)
        j += 1
    return opts, j


def _iter_blocks(lines: list[str]):
    """Yield (index, directive name, argument, options) for every directive opening line (any nesting level)."""
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if not m:
            continue
        d = _DIRECTIVE.match(m.group(2))
        if not d:
            continue
        opts, _ = _read_options(lines, i + 1, len(lines))
        yield i, d.group(1), d.group(2).strip(), opts


def _code_cell_figure(lines: list[str], i: int) -> dict | None:
    """The ``mystnb: figure:`` options (caption, name) of the code cell opened at line ``i``, from its YAML block
    of options (``---`` ... ``---``), or None when the cell carries no figure."""
    if i + 1 >= len(lines) or lines[i + 1].strip() != "---":
        return None
    try:
        j = next(k for k in range(i + 2, len(lines)) if lines[k].strip() == "---")
    except StopIteration:
        return None
    opts = yaml.safe_load("\n".join(lines[i + 2 : j])) or {}
    fig = (opts.get("mystnb") or {}).get("figure") if isinstance(opts, dict) else None
    return fig if isinstance(fig, dict) else None


def _next_number(counters: dict[str, int], kind: str, num: str) -> str:
    """Count one more block of ``kind`` on a page of chapter ``num`` and return its number ("4.3")."""
    counters[kind] = counters.get(kind, 0) + 1
    return _numbered(num, counters[kind])


def _lines_in_code(text: str, lines: list[str]) -> list[bool]:
    """For each line of ``text``: whether it lies inside a fenced code block."""
    code = _code_block_spans(text)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    return [any(lo <= off < hi for lo, hi in code) for off in offsets]


def _record_heading(doc: str, num: str, heading: re.Match, labels: list[str], book: Book) -> None:
    """A heading: the page's title (its first level-1 heading) and the targets of the labels just above it."""
    title = heading.group(2)
    top = len(heading.group(1)) == 1
    if top and doc not in book.titles:
        book.titles[doc] = title
    for label in labels:
        book.targets[label] = Target("chapter" if top else "section", num, _plain_inline(title), doc)


def _scan_lines(doc: str, num: str, lines: list[str], book: Book, counters: dict[str, int], in_code: list[bool]):
    """Line by line, outside code: ``(label)=`` targets of the next heading, headings, labelled display maths
    (``$$ (label)``)."""
    pending: list[str] = []
    for line, code in zip(lines, in_code):
        if code:
            continue
        lab = _LABEL_LINE.match(line)
        if lab:
            pending.append(lab.group(1))
            continue
        h = _HEADING.match(line)
        if h:
            _record_heading(doc, num, h, pending, book)
            pending = []
            continue
        if line.strip():
            pending = []
        eq = _EQ_CLOSE.match(line)
        if eq:
            book.targets[eq.group(1)] = Target("equation", _next_number(counters, "equation", num), "", doc)


_NUMBERED_BLOCKS = ("figure", "glue:figure", "table", "list-table", "csv-table")


def _record_numbered_block(doc: str, num: str, name: str, opts: dict, book: Book, counters: dict[str, int]):
    """A figure or table directive: its number (also kept in ``book.block_numbers``) and its ``:name:``."""
    kind = "table" if "table" in name else "figure"
    number = _next_number(counters, kind, num)
    book.block_numbers.setdefault(doc, {}).setdefault(kind, []).append(number)
    if "name" in opts:
        book.targets[opts["name"]] = Target(kind, number, "", doc)


def _record_code_cell_figure(doc: str, num: str, lines: list[str], i: int, book: Book, counters: dict[str, int]):
    """A code cell with a ``mystnb: figure`` caption: myst-nb wraps its output in a numbered figure."""
    fig = _code_cell_figure(lines, i)
    if fig is not None:
        number = _next_number(counters, "figure", num)
        if fig.get("name"):
            book.targets[str(fig["name"])] = Target("figure", number, "", doc)


def _scan_directives(doc: str, num: str, lines: list[str], book: Book, counters: dict[str, int]) -> None:
    """Every directive (any nesting level): labelled ``math``, figures and tables, captioned code cells, and the
    numbered statements (``prf:*`` but proofs, exercises) with their ``:label:``."""
    for i, name, arg, opts in _iter_blocks(lines):
        if name == "math":
            if "label" in opts:
                book.targets[opts["label"]] = Target("equation", _next_number(counters, "equation", num), "", doc)
        elif name in _NUMBERED_BLOCKS:
            _record_numbered_block(doc, num, name, opts, book, counters)
        elif name == "code-cell":
            _record_code_cell_figure(doc, num, lines, i, book, counters)
        elif (name.startswith("prf:") and name != "prf:proof") or name == "exercise":
            kind = "exercise" if name == "exercise" else name[4:]
            number = _next_number(counters, kind, num)
            if "label" in opts:
                book.targets[opts["label"]] = Target(kind, number, arg, doc)


def scan_page(doc: str, text: str, book: Book) -> None:
    """Record the labels, numbers and title of one page (MyST source) in `book`: headings, labelled equations and
    numbered directives, each numbered ``<chapter>.<k>`` in the page's order (equations count ``$$ (label)`` lines
    first, then labelled ``math`` directives)."""
    num = chapter_number(doc)
    book.chapter_numbers[doc] = num
    lines = text.splitlines()
    counters: dict[str, int] = {}
    _scan_lines(doc, num, lines, book, counters, _lines_in_code(text, lines))
    _scan_directives(doc, num, lines, book, counters)


def _bib_entries(text: str) -> dict[str, str]:
    """key -> "Wang & Pehlevan (2025)" from a BibTeX file (authors' last names, year)."""
    out = {}
    for m in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", text, re.S):
        key, body = m.group(1), m.group(2)
        fields = dict(
            (f.group(1).lower(), f.group(2)) for f in re.finditer(r"(\w+)\s*=\s*[{\"](.*?)[}\"]\s*,?\s*$", body, re.M)
        )
        authors = [a.strip() for a in re.split(r"\s+and\s+", fields.get("author", "").replace("\n", " ")) if a.strip()]
        names = [(a.split(",")[0] if "," in a else a.split()[-1]).strip("{} ") for a in authors]
        who = (names[0] + " et al." if len(names) > 2 else " & ".join(names)) or key
        out[key] = f"{who} ({fields.get('year', 'n.d.')})"
    return out


def load_book(root: Path, docs: list[str], config: dict) -> Book:
    """Scan every page of the book (`docs`: docnames without extension) under `root`."""
    book = Book(macros=book_macros(config))
    for doc in docs:
        path = root / f"{doc}.md"
        if path.is_file():
            scan_page(doc, path.read_text(encoding="utf-8"), book)
    for bib in config.get("bibtex_bibfiles") or []:
        path = root / bib
        if path.is_file():
            book.citations.update(_bib_entries(path.read_text(encoding="utf-8")))
    return book


# ---------------------------------------------------------------------------------------------------------------
# roles
# ---------------------------------------------------------------------------------------------------------------
_ROLE_OR_CODE = re.compile(r"(?P<code>(`+).+?\2)|\{(?P<role>[A-Za-z][\w:.-]*)\}`(?P<content>[^`]*)`", re.S)
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def _plain_inline(text: str) -> str:
    """Heading text without roles (used for titles in the label table)."""
    return re.sub(r"\{[A-Za-z][\w:.-]*\}`([^`]*)`", lambda m: m.group(1).split("<")[0].strip(), text)


def _target_name(t: Target, book: Book) -> str:
    if t.kind == "equation":
        return f"({t.number})"
    if t.kind == "chapter":
        return f"Chapter {t.number}, *{t.title}*" if t.number else f"*{t.title}*"
    if t.kind == "section":
        return f"“{t.title}”" + (f" (chapter {t.number})" if t.number else "")
    if t.kind in ("figure", "table"):
        return f"{t.kind.capitalize()} {t.number}"
    return f"{PRF_NAMES.get(t.kind, t.kind.capitalize())} {t.number}"


def _role(role: str, content: str, book: Book, doc: str) -> str:
    explicit = _EXPLICIT.match(content)
    text, target = (explicit.group("text"), explicit.group("target")) if explicit else (None, content.strip())
    if role in ("eq", "prf:ref", "ref", "numref"):
        t = book.targets.get(target)
        if t is None:
            raise ValueError(f"{doc}: unknown reference target {target!r} in {{{role}}}`{content}`")
        if text and role == "numref":
            return text.replace("%s", t.number).replace("{number}", t.number).replace("{name}", t.title)
        return text if text else _target_name(t, book)
    if role.startswith("cite"):
        keys = [k.strip() for k in content.split(",") if k.strip()]
        missing = [k for k in keys if k not in book.citations]
        if missing:
            raise ValueError(f"{doc}: unknown citation key(s) {missing} in {{{role}}}`{content}`")
        return "; ".join(book.citations[k] for k in keys)
    if role == "doc":
        if text:
            return text
        path = str((Path(doc).parent / target).as_posix()) if not target.startswith("/") else target.lstrip("/")
        return f"*{book.titles.get(path, book.titles.get(target, target))}*"
    if role == "math":
        return f"${content}$"
    if role.startswith("glue"):
        return f"`{target}` (the value the notebook computes)"
    if role in ("term", "abbr", "download", "sub", "sup", "kbd", "guilabel", "menuselection", "file", "code"):
        return text if text is not None else content
    return text if text is not None else content


def convert_roles(text: str, book: Book, doc: str) -> str:
    """Replace every role outside code by readable text."""
    code = _code_block_spans(text)
    out, pos = [], 0
    for lo, hi in code + [(len(text), len(text))]:
        chunk = text[pos:lo]

        def repl(m, chunk=chunk):
            if m.group("code"):
                return m.group(0)
            out_text = _role(m.group("role"), m.group("content"), book, doc)
            # "Proposition {prf:ref}`x`" already names the kind: keep only the number
            before = re.search(r"(\w+)\s+$", chunk[max(0, m.start() - 30) : m.start()])
            kind, _, number = out_text.partition(" ")
            if (
                before
                and m.group("role") in ("prf:ref", "ref", "numref")
                and number
                and before.group(1).lower().rstrip("s") == kind.lower()
            ):
                return number
            return out_text

        out.append(_ROLE_OR_CODE.sub(repl, chunk))
        out.append(text[lo:hi])
        pos = hi
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------------
# directives, labels, labelled equations
# ---------------------------------------------------------------------------------------------------------------
def _close_index(lines: list[str], i: int) -> int:
    """Index of the fence closing the directive opened at lines[i] (nested fences allowed)."""
    m = _FENCE.match(lines[i])
    char, length = m.group(1)[0], len(m.group(1))
    stack = []
    for j in range(i + 1, len(lines)):
        f = _FENCE.match(lines[j])
        if not f:
            continue
        fence, info = f.groups()
        if not info and stack and fence[0] == stack[-1][0] and len(fence) >= stack[-1][1]:
            stack.pop()
        elif not info and not stack and fence[0] == char and len(fence) >= length:
            return j
        elif info:
            stack.append((fence[0], len(fence)))
    raise ValueError(f"unclosed directive opened at line {i + 1}: {lines[i].strip()!r}")


class _Page:
    """Running counters of one page, so blocks get the numbers :func:`scan_page` gave their labels."""

    def __init__(self, doc: str, book: Book):
        self.doc, self.book, self.num = doc, book, chapter_number(doc)
        self.counters: dict[str, int] = {}

    def next(self, kind: str) -> str:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        numbers = self.book.block_numbers.get(self.doc, {}).get(kind) if kind in ("figure", "table") else None
        if numbers and self.counters[kind] <= len(numbers):  # the number scan_page gave this block
            return numbers[self.counters[kind] - 1]
        return _numbered(self.num, self.counters[kind])


def _convert_lines(lines: list[str], page: _Page) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FENCE.match(line)
        d = _DIRECTIVE.match(m.group(2)) if m else None
        if m and not d and m.group(1)[0] in "`~":  # plain code block: copied as is
            j = _close_index(lines, i)
            out.extend(lines[i : j + 1])
            i = j + 1
            continue
        if d:
            j = _close_index(lines, i)
            name, arg = d.group(1), d.group(2).strip()
            opts, k = _read_options(lines, i + 1, j)
            body = _convert_lines(lines[k:j], page)
            out.extend(_render_directive(name, arg, opts, body, page))
            i = j + 1
            continue
        if _LABEL_LINE.match(line):
            i += 1
            continue
        eq = _EQ_CLOSE.match(line)
        if eq:
            out.append(f"\\tag{{{page.next('equation')}}}")
            out.append("$$")
            i += 1
            continue
        out.append(line)
        i += 1
    return out


# One renderer per directive kind: (name, argument, options, converted and trimmed body, page) -> Markdown lines.
def _render_proof(name, arg, opts, body, page):
    """A proof: "*Proof.*", the body, a closing square."""
    return ["", "*Proof.*", "", *body, "", "$\\blacksquare$", ""]


def _render_prf(name, arg, opts, body, page):
    """A numbered statement (``prf:proposition``, ``prf:lemma``, ...): "**Proposition N.k** (title)." and body."""
    kind = name[4:]
    head = f"{PRF_NAMES.get(kind, kind.capitalize())} {page.next(kind)}"
    return ["", f"**{head}** ({arg})." if arg else f"**{head}.**", "", *body, ""]


def _render_exercise(name, arg, opts, body, page):
    """An exercise after a rule: "**Exercise N.k** (title)." and the body."""
    number = page.next("exercise")
    head = f"**Exercise {number}** ({arg})." if arg else f"**Exercise {number}.**"
    return ["", "---", "", head, "", *body, ""]


def _render_solution(name, arg, opts, body, page):
    """A solution, folded as in the book; ``solution-start`` (a gated solution spans cells) gets a heading only."""
    t = page.book.targets.get(arg)
    which = f" to Exercise {t.number}" if t is not None and t.kind == "exercise" else ""
    if name == "solution-start":
        return ["", f"**Solution{which}.**", "", *body, ""]
    return [
        "",
        "<details>",
        f"<summary><b>Solution{which}</b> (click to open)</summary>",
        "",
        *body,
        "",
        "</details>",
        "",
    ]


def _render_solution_end(name, arg, opts, body, page):
    """The end of a solution that spans cells."""
    return ["", "*End of the solution.*", ""]


def _render_glue(name, arg, opts, body, page):
    """A glued figure or value: the code cell that computes it shows it; a ``glue:figure`` keeps its number."""
    label = f"Figure {page.next('figure')}: " if name == "glue:figure" else ""
    caption = " ".join(body).strip()
    return [
        "",
        f"*{label}{caption + ' ' if caption else ''}(`{arg}`: shown by the code cell that computes it above.)*",
        "",
    ]


def _render_math(name, arg, opts, body, page):
    """A ``math`` directive as display maths, tagged with its number when labelled."""
    tag = [f"\\tag{{{page.next('equation')}}}"] if "label" in opts else []
    return ["", "$$", *body, *tag, "$$", ""]


def _render_image(name, arg, opts, body, page):
    """An image as a Markdown image (its ``:alt:`` text kept)."""
    return ["", f"![{opts.get('alt', '')}]({arg})", ""]


def _render_figure(name, arg, opts, body, page):
    """A figure: the image, then "*Figure N.k: caption*" with the number scan_page gave it."""
    caption = " ".join(body).strip()
    label = f"Figure {page.next('figure')}"
    return ["", f"![{opts.get('alt', caption)}]({arg})", "", f"*{label}: {caption}*" if caption else f"*{label}*", ""]


def _render_table(name, arg, opts, body, page):
    """A table (``table``, ``list-table``, ``csv-table``): "*Table N.k: title*" above the body."""
    label = f"Table {page.next('table')}"
    return ["", f"*{label}{': ' + arg if arg else ''}*", "", *body, ""]


def _render_bibliography(name, arg, opts, body, page):
    """The bibliography: a pointer to the book's page (a twin has no bibliography of its own)."""
    return ["", "*(The bibliography is a page of the book.)*", ""]


def _render_glossary(name, arg, opts, body, page):
    """A glossary: each term in bold above its definition."""
    return ["", *_glossary(body), ""]


def _render_code(name, arg, opts, body, page):
    """A code directive as a plain fenced code block in its language (first word of the argument)."""
    return ["```" + (arg.split()[0] if arg else ""), *body, "```"]


def _render_admonition(name, arg, opts, body, page):
    """Any other directive (admonitions, margins, dropdowns, unknown ones): its body under a bold title."""
    title = arg or name.capitalize()
    if name in ADMONITIONS and name != "admonition" and arg == "":
        title = name.capitalize()
    return ["", f"**{title}.**" if not title.endswith((".", "?", "!")) else f"**{title}**", "", *body, ""]


_RENDERERS = {
    "prf:proof": _render_proof,
    "exercise": _render_exercise,
    "solution": _render_solution,
    "solution-start": _render_solution,
    "solution-end": _render_solution_end,
    "math": _render_math,
    "image": _render_image,
    "figure": _render_figure,
    "table": _render_table,
    "list-table": _render_table,
    "csv-table": _render_table,
    "bibliography": _render_bibliography,
    "glossary": _render_glossary,
    "code-cell": _render_code,
    "code-block": _render_code,
    "code": _render_code,
}


def _render_directive(name: str, arg: str, opts: dict, body: list[str], page: _Page) -> list[str]:
    """The plain Markdown of one directive: the renderer of its name, else of its family (``prf:*``, ``glue*``),
    else the admonition renderer."""
    if name in _RENDERERS:
        render = _RENDERERS[name]
    elif name.startswith("prf:"):
        render = _render_prf
    elif name.startswith("glue"):
        render = _render_glue
    else:
        render = _render_admonition
    return render(name, arg, opts, _trim(body), page)


def _glossary(body: list[str]) -> list[str]:
    out = []
    for line in body:
        if line and not line.startswith((" ", "\t", ":")):
            out.append(f"**{line.strip()}**")
        else:
            out.append(re.sub(r"^\s*:\s*", "", line.strip()) if line.strip().startswith(":") else line.strip())
    return out


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


class Converter:
    """Converts the Markdown cells of one page in order (numbers continue across cells)."""

    def __init__(self, doc: str, book: Book):
        self.doc, self.book = doc, book
        self.page = _Page(doc, book)

    def __call__(self, markdown: str) -> str:
        lines = _convert_lines(markdown.split("\n"), self.page)
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
        text = convert_roles(text, self.book, self.doc)
        segs = math_segments(text)
        out, pos = [], 0
        for s in segs:
            out.append(text[pos : s.start])
            out.append(expand_macros(text[s.start : s.end], self.book.macros))
            pos = s.end
        out.append(text[pos:])
        return "".join(out)


def book_config(root: Path) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


# What must never survive into a twin's Markdown (outside code).
LEFTOVER = [
    (re.compile(r"^\s*(`{3,}|:{3,})\s*\{[A-Za-z][\w:-]*\}", re.M), "a MyST directive fence"),
    (re.compile(r"^\s*:{3,}", re.M), "a colon fence (:::)"),
    (re.compile(r"\{[A-Za-z][\w:.-]*\}`"), "a MyST role ({name}`...`)"),
    (re.compile(r"^\([^()\s]+\)=\s*$", re.M), "a (label)= target"),
    (re.compile(r"^\s*\$\$\s*\([^()\s]+\)\s*$", re.M), "a labelled equation ($$ (label))"),
    (re.compile(r"^:(label|class|tags|name|nonumber):", re.M), "a directive option line"),
]


def leftovers(markdown: str) -> list[str]:
    """Descriptions of the MyST syntax left in `markdown` outside code blocks and inline code."""
    code = _code_block_spans(markdown)
    plain, pos = [], 0
    for lo, hi in code + [(len(markdown), len(markdown))]:
        plain.append(re.sub(r"(?<!\})(`+)[^`].*?\1", "", markdown[pos:lo], flags=re.S))
        pos = hi
    text = "\n".join(plain)
    found = []
    for rx, what in LEFTOVER:
        for m in rx.finditer(text):
            found.append(f"{what}: {m.group(0).strip()[:60]!r}")
    return found
