"""Generate the .ipynb twin of every chapter (Colab, Binder, JupyterLab, a downloaded notebook) and the student edition.

Every page of _toc.yml whose source is a MyST markdown notebook (jupytext front matter) gets a committed twin
`<same folder>/<same stem>.ipynb`: sphinx-book-theme's Colab/Binder buttons open the .ipynb when one with the same
stem sits next to the source (the book itself ignores *.ipynb, see exclude_patterns in _config.yml).

A twin is plain Jupyter: its Markdown is converted by :mod:`spectral_bias.booktools.myst_plain` (the book's MathJax
macros expanded from _config.yml, equations, propositions and exercises numbered, references and citations as
readable text, no MyST left). Its first cell (visible, output hidden) installs the package whenever
`import spectral_bias` fails, on any platform, from `repository.url` of _config.yml pinned to a release tag on HEAD
or the exact commit the book was built from (`SPECTRAL_BIAS_REF=v0.1.0 make notebooks` pins a tag; the pin only
moves when the package changed), and fetches the data sets the chapter loads. At run time
`$SPECTRAL_BIAS_PIP_SPEC` replaces what pip installs.

    python -m spectral_bias.booktools.notebooks                   # (re)write the twins; prints what changed
    python -m spectral_bias.booktools.notebooks --check           # exit 1 when a twin is missing or out of date
    python -m spectral_bias.booktools.notebooks --student OUTDIR  # solution-free notebooks in OUTDIR/notebooks/
                                                                  # and the student-edition config OUTDIR/_config.yml

(`scripts/make_notebooks.py` runs the same.) The book is the checkout this module lies in (``src/`` layout), else
the current folder; ``--root`` names another.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

from ..data import DATASETS
from . import myst_plain


def _default_root() -> Path:
    """The book checkout holding this module (``<root>/src/spectral_bias/booktools/``), else the current folder."""
    checkout = Path(__file__).resolve().parents[3]
    return checkout if (checkout / "_toc.yml").is_file() else Path.cwd()


ROOT = _default_root()
INSTALL_TAG = "colab-install"

# Data sets that need `python -m spectral_bias.data fetch <name>` (not bundled in a wheel), read from the package so
# that the list cannot drift.
FETCHED = tuple(sorted(n for n, spec in DATASETS.items() if spec[2]))


# ---------------------------------------------------------------------------------------------------------------
# what to convert
# ---------------------------------------------------------------------------------------------------------------
def book_config(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def toc_docs(root: Path = ROOT) -> list[str]:
    """Docnames of _toc.yml (root first, then in order), without extension."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                docs.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return [str(Path(d).with_suffix("")) for d in docs]


def is_myst_notebook(text: str) -> bool:
    """True for a MyST markdown file whose front matter makes it a notebook (jupytext + kernelspec)."""
    m = re.match(r"---\n(.*?)\n---\n", text, flags=re.S)
    if not m:
        return False
    front = yaml.safe_load(m.group(1)) or {}
    return isinstance(front, dict) and "jupytext" in front and "kernelspec" in front


def notebook_sources(root: Path = ROOT) -> list[Path]:
    """The .md sources in _toc.yml that are notebooks: each one gets a twin."""
    out = []
    for doc in toc_docs(root):
        md = root / f"{doc}.md"
        if md.is_file() and is_myst_notebook(md.read_text(encoding="utf-8")):
            out.append(md)
    return out


def twin_path(md: Path) -> Path:
    return md.with_suffix(".ipynb")


# ---------------------------------------------------------------------------------------------------------------
# solutions (student edition)
# ---------------------------------------------------------------------------------------------------------------
_FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*(.*?)\s*$")
_SOLUTION = re.compile(r"^\{(solution|solution-start|solution-end)\}")


def _skip_block(lines: list[str], i: int, char: str, length: int) -> int:
    """Index just after the fence that closes the block opened at lines[i] (fences may nest inside it)."""
    stack = []
    j = i + 1
    while j < len(lines):
        m = _FENCE.match(lines[j])
        if m:
            fence, info = m.groups()
            if not info and stack and fence[0] == stack[-1][0] and len(fence) >= stack[-1][1]:
                stack.pop()
            elif not info and not stack and fence[0] == char and len(fence) >= length:
                return j + 1
            elif info:
                stack.append((fence[0], len(fence)))
        j += 1
    raise ValueError(f"unclosed directive opened at line {i + 1}: {lines[i].strip()!r}")


def strip_solutions(text: str) -> str:
    """MyST text without its exercise solutions.

    Removes ```{solution}``` blocks and gated ```{solution-start}``` ... ```{solution-end}``` spans (with everything
    between them, code cells included); backtick or colon fences, nested fences allowed. Exercises stay.
    Raises ValueError for an unclosed solution block or a solution-start without its solution-end.
    """
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        kind = _SOLUTION.match(m.group(2)) if m else None
        if not kind:
            out.append(lines[i])
            i += 1
            continue
        fence = m.group(1)
        i = _skip_block(lines, i, fence[0], len(fence))
        if kind.group(1) == "solution-start":
            while True:  # drop everything up to and including the matching solution-end block
                if i >= len(lines):
                    raise ValueError("a {solution-start} block has no {solution-end}")
                m2 = _FENCE.match(lines[i])
                if m2 and m2.group(2).startswith("{solution-end}"):
                    i = _skip_block(lines, i, m2.group(1)[0], len(m2.group(1)))
                    break
                i += 1
    return re.sub(r"\n{3,}", "\n\n", "".join(out))


# ---------------------------------------------------------------------------------------------------------------
# the twin
# ---------------------------------------------------------------------------------------------------------------
def fetched_datasets(text: str) -> list[str]:
    """Data sets that need a fetch step, named as string literals in the chapter (e.g. data.load("mnist"))."""
    return [n for n in FETCHED if re.search(rf"""["']{re.escape(n)}["']""", text)]


PIN_ENV = "SPECTRAL_BIAS_REF"  # `SPECTRAL_BIAS_REF=v0.1.0 make notebooks` pins the twins to a tag
SPEC_ENV = "SPECTRAL_BIAS_PIP_SPEC"  # at run time: install from elsewhere (a fork, a local checkout)
# what the install cell installs; the twins' own build tooling (this subpackage) is not what a reader runs
_PACKAGE_PATHS = ("src", "pyproject.toml", ":(exclude)src/spectral_bias/booktools")


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def pinned_ref(root: Path = ROOT, previous: str | None = None) -> str:
    """What the install cell installs: $SPECTRAL_BIAS_REF, else a v* tag on HEAD, else HEAD's commit.

    `previous` (the ref a twin pins now) is kept while the package (src/ but for this build tooling, pyproject.toml)
    is the same at it and at HEAD, so regenerating the twins after a commit that touched only chapters changes
    nothing. Without git (an unpacked archive) the branch of _config.yml is used.
    """
    env = os.environ.get(PIN_ENV, "").strip()
    if env:
        return env
    head = _git(root, "rev-parse", "HEAD")
    if head is None:
        return str(book_config(root).get("repository", {}).get("branch") or "main")
    tag = _git(root, "tag", "--points-at", "HEAD", "--list", "v*", "--sort=-v:refname")
    if tag:
        return tag.splitlines()[0]
    if previous and _git(root, "diff", "--quiet", previous, "HEAD", "--", *_PACKAGE_PATHS) is not None:
        return previous  # same package at both commits (exit 0); an unknown ref or a difference repins
    return head


def install_cell_source(url: str, ref: str, datasets: list[str]) -> str:
    """The twin's first cell: install the package when `import spectral_bias` fails (any platform), then fetch data."""
    spec = f"spectral_bias[all] @ git+{url}@{ref}" if ref else f"spectral_bias[all] @ git+{url}"
    lines = [
        "# Set-up: installs the book's package if this Python does not have it (Colab, Kaggle, JupyterHub, VS Code,",
        "# a downloaded notebook), pinned to the version the book was built from; then fetches this chapter's data.",
        f"# To install another version or a fork: set ${SPEC_ENV} (a pip requirement) before starting Jupyter.",
        "import os, subprocess, sys",
        "",
        f"PACKAGE = os.environ.get({json.dumps(SPEC_ENV)}) or {json.dumps(spec)}",
        "try:",
        "    import spectral_bias",
        "except ImportError:",
        '    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PACKAGE],',
        "                          capture_output=True, text=True)",
        "    if done.returncode != 0:",
        '        raise RuntimeError(f"pip install {PACKAGE!r} failed:\\n{done.stderr[-3000:]}")',
        "    import importlib",
        "",
        "    importlib.invalidate_caches()",
        "    import spectral_bias",
        'print("spectral_bias", spectral_bias.__version__, "from", os.path.dirname(spectral_bias.__file__))',
    ]
    if datasets:
        args = ", ".join(json.dumps(d) for d in datasets)
        lines += [
            f'done = subprocess.run([sys.executable, "-m", "spectral_bias.data", "fetch", {args}],',
            "                      capture_output=True, text=True)",
            "print(done.stdout.strip())",
            "if done.returncode != 0:",
            "    raise RuntimeError(done.stderr.strip())",
        ]
    return "\n".join(lines)


_PIN_LINE = re.compile(r"(PACKAGE = .*?@ git\+[^\"]*?)@([^\"@]+)(\")")


def install_cell_ref(source: str) -> str | None:
    """The ref an install cell pins (None if it pins none)."""
    m = _PIN_LINE.search(source)
    return m.group(2) if m else None


def _cell_id(cell, seen: set) -> str:
    base = hashlib.sha1((cell.cell_type + "\0" + cell.source).encode()).hexdigest()[:12]
    cid, k = base, 1
    while cid in seen:
        cid, k = f"{base}-{k}", k + 1
    seen.add(cid)
    return cid


_BOOKS: dict = {}


def book_index(root: Path = ROOT) -> myst_plain.Book:
    """Labels, numbers, titles, citations and macros of the whole book (cached per root and source state)."""
    docs = toc_docs(root)
    files = [root / f"{d}.md" for d in docs] + [root / "_config.yml", root / "references.bib"]
    key = (str(root), tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists()))
    if key not in _BOOKS:
        _BOOKS.clear()
        _BOOKS[key] = myst_plain.load_book(root, docs, book_config(root))
    return _BOOKS[key]


def notebook_text(md: Path, *, student: bool = False, root: Path = ROOT, ref: str | None = None) -> str:
    """The .ipynb (JSON text) generated from the MyST notebook `md`: install cell first, plain Markdown (macros
    expanded, references numbered, directives as headed paragraphs), deterministic ids. `ref`: what the install cell
    pins (default: :func:`pinned_ref`)."""
    text = md.read_text(encoding="utf-8")
    if not is_myst_notebook(text):
        raise ValueError(f"{md} is not a MyST notebook (no jupytext/kernelspec front matter)")
    if student:
        text = strip_solutions(text)
    nb = jupytext.reads(text, fmt="md:myst")
    repo = book_config(root).get("repository", {})
    if not repo.get("url"):
        raise ValueError("_config.yml has no repository.url: the install cell needs it")
    install = nbformat.v4.new_code_cell(
        install_cell_source(repo["url"], ref if ref is not None else pinned_ref(root), fetched_datasets(text))
    )
    install.metadata = {"tags": [INSTALL_TAG], "jupyter": {"outputs_hidden": True}}
    doc = str(md.relative_to(root).with_suffix("").as_posix())
    convert = myst_plain.Converter(doc, book_index(root))
    cells = [install]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = convert(cell.source)
            if not cell.source.strip():
                continue
        cells.append(cell)
    seen: set = set()
    for cell in cells:
        cell.id = _cell_id(cell, seen)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("jupytext", None)
    meta = {"kernelspec": dict(nb.metadata.get("kernelspec", {})), "language_info": {"name": "python"}}
    if student:
        meta["spectral_bias"] = {"edition": "student"}
    out = nbformat.v4.new_notebook(cells=cells, metadata=meta)
    out.nbformat, out.nbformat_minor = 4, 5
    nbformat.validate(out)
    text = nbformat.writes(out)  # indent 1, sorted keys, sources split into lines: readable diffs
    return text if text.endswith("\n") else text + "\n"


def normalized(nb_json: str) -> dict:
    """What must match between a twin and its regeneration (volatile metadata, ids and outputs ignored)."""
    nb = json.loads(nb_json)

    def src(c):
        text = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        return _PIN_LINE.sub(r"\1@<ref>\3", text) if INSTALL_TAG in c.get("metadata", {}).get("tags", []) else text

    return {
        "kernelspec": nb.get("metadata", {}).get("kernelspec"),
        "cells": [(c["cell_type"], src(c), sorted(c.get("metadata", {}).get("tags", []))) for c in nb["cells"]],
    }


def out_of_date(root: Path = ROOT) -> list[str]:
    """Twins that are missing or differ from their regeneration, and twins whose source left the book."""
    problems = []
    sources = notebook_sources(root)
    for md in sources:
        twin = twin_path(md)
        rel = twin.relative_to(root)
        if not twin.exists():
            problems.append(f"{rel}: missing")
        elif normalized(twin.read_text(encoding="utf-8")) != normalized(notebook_text(md, root=root)):
            problems.append(f"{rel}: differs from {md.relative_to(root)}")
    wanted = {twin_path(md) for md in sources}
    for nb in sorted(root.glob("chapters/**/*.ipynb")):
        if nb not in wanted and ".ipynb_checkpoints" not in nb.parts:
            problems.append(f"{nb.relative_to(root)}: orphan (no notebook source of that stem in _toc.yml)")
    return problems


def _current_ref(twin: Path) -> str | None:
    try:
        first = json.loads(twin.read_text(encoding="utf-8"))["cells"][0]
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return install_cell_ref("".join(first["source"]) if isinstance(first["source"], list) else first["source"])


def write_twins(root: Path = ROOT) -> list[Path]:
    changed = []
    for md in notebook_sources(root):
        twin = twin_path(md)
        text = notebook_text(md, root=root, ref=pinned_ref(root, _current_ref(twin) if twin.exists() else None))
        if not twin.exists() or twin.read_text(encoding="utf-8") != text:
            twin.write_text(text, encoding="utf-8")
            changed.append(twin)
    return changed


# ---------------------------------------------------------------------------------------------------------------
# student edition
# ---------------------------------------------------------------------------------------------------------------
def student_config(root: Path = ROOT) -> dict:
    """The book config for `make student`: solutions removed, launch buttons off, the reader build's cache reused."""
    cfg = copy.deepcopy(book_config(root))
    cfg["title"] = f"{cfg.get('title', '')} (student edition)".strip()
    execute = cfg.setdefault("execute", {})
    execute["execute_notebooks"] = "cache"
    execute["cache"] = str((root / "_build" / ".jupyter_cache").resolve())  # same notebooks: the same cache
    # Colab/Binder/Thebe would open the repository's notebooks, which contain the solutions.
    cfg["launch_buttons"] = {"notebook_interface": "classic", "binderhub_url": "", "colab_url": "", "thebe": False}
    sphinx = cfg.setdefault("sphinx", {})
    sphinx.setdefault("config", {})["sb_student_edition"] = True
    bib = cfg.get("bibtex_bibfiles")
    if bib:
        cfg["bibtex_bibfiles"] = [str((root / b).resolve()) for b in bib]
    local = sphinx.get("local_extensions") or {}
    sphinx["local_extensions"] = {k: str((root / v).resolve()) for k, v in local.items()}
    return cfg


def write_student(outdir: Path, root: Path = ROOT) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "_config.yml").write_text(
        "# generated by `python -m spectral_bias.booktools.notebooks --student`: do not edit\n"
        + yaml.safe_dump(student_config(root), sort_keys=False),
        encoding="utf-8",
    )
    written = []
    for md in notebook_sources(root):
        out = outdir / "notebooks" / md.relative_to(root).with_suffix(".ipynb")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(notebook_text(md, student=True, root=root), encoding="utf-8")
        written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spectral_bias.booktools.notebooks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a twin is missing or out of date")
    parser.add_argument("--student", metavar="OUTDIR", help="write the student notebooks and config into OUTDIR")
    parser.add_argument("--root", metavar="BOOK", type=Path, default=ROOT, help=f"the book's folder (default {ROOT})")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "_toc.yml").is_file():
        print(f"error: --root must be a book folder (with a _toc.yml), got {args.root}", file=sys.stderr)
        return 2
    if args.check:
        problems = out_of_date(root)
        for p in problems:
            print(p)
        if problems:
            print("run: make notebooks")
        return 1 if problems else 0
    if args.student:
        written = write_student(Path(args.student).resolve(), root)
        print(f"student edition: config and {len(written)} notebook(s) in {args.student}")
        return 0
    changed = write_twins(root)
    print(f"notebooks: {len(changed)} twin(s) written" + "".join(f"\n  {p.relative_to(root)}" for p in changed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
