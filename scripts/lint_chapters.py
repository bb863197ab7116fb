"""Lint and format-check the code cells of the book's MyST pages with ruff, at 88 columns.

Chapter code is read in the built book, where a line longer than 88 characters scrolls sideways, so pages are held
to a narrower width than the package (120; ``[tool.ruff]`` in pyproject.toml). Each page's code cells are written
to a scratch folder twice: joined into one module (``ruff check``: names flow from cell to cell as in a kernel)
and one file per cell (``ruff format --check``). Problems are reported at the page's own line numbers.

    python scripts/lint_chapters.py          # check (run by `make lint`, part of `make test`)
    python scripts/lint_chapters.py --fix    # format the cells in place (only the code between the fences)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["intro.md", "chapters/*.md", "problems/*.md"]
WIDTH = 88
# The package's rules (pyproject.toml), less two that do not fit a narrative: E402 (a chapter imports where the
# text first needs a name) and F811 (an exercise's solution redefines the function its starter cell defined).
RULES = ["--select", "E,F,W,I,B", "--ignore", "E402,F811,E731,E741,B905,B023"]
RULES += ["--config", 'lint.isort.known-first-party=["spectral_bias"]']
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?P<body>.*?)^```$", re.S | re.M)
RUFF = [sys.executable, "-m", "ruff"]


def cells(text: str):
    """(first line number, code) of each code cell, with its YAML option header removed."""
    for m in CELL.finditer(text):
        body, start = m.group("body"), text.count("\n", 0, m.start("body")) + 1
        if body.startswith("---\n"):
            end = body.index("\n---\n", 4) + 5
            start += body.count("\n", 0, end)
            body = body[end:]
        yield start, body, m.start("body") + (len(m.group("body")) - len(body))


def pages() -> list[Path]:
    return sorted(p for pattern in PAGES for p in ROOT.glob(pattern))


def check(paths: list[Path]) -> int:
    problems = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        joined, lines_of = {}, {}
        for page in paths:
            found = list(cells(page.read_text(encoding="utf-8")))
            if not found:
                continue
            name = page.stem.replace(".", "_")
            src, where = [], []
            for i, (start, code, _) in enumerate(found):
                (tmp / f"{name}__cell{i:02d}.py").write_text(code, encoding="utf-8")
                for k, _line in enumerate(code.split("\n")[:-1]):
                    where.append(start + k)
                    src.append(_line)
                where.append(start + len(code.split("\n")) - 1)  # the separator line
                src.append("")
            joined[name] = page
            lines_of[name] = where
            (tmp / f"{name}.joined").write_text("\n".join(src) + "\n", encoding="utf-8")
        lint = subprocess.run(
            [*RUFF, "check", "--isolated", "--line-length", str(WIDTH), *RULES, "--output-format", "concise",
             "--extension", "joined:python", *map(str, sorted(tmp.glob("*.joined")))],
            capture_output=True, text=True,
        )  # fmt: skip
        for line in lint.stdout.splitlines():
            m = re.match(r"(.+?)\.joined:(\d+):(\d+): (.*)", line)
            if m:
                name = Path(m.group(1)).name
                page, row = joined[name], lines_of[name][int(m.group(2)) - 1]
                print(f"{page.relative_to(ROOT)}:{row}:{m.group(3)}: {m.group(4)}")
                problems += 1
        fmt = subprocess.run(
            [*RUFF, "format", "--isolated", "--check", "--line-length", str(WIDTH), str(tmp)],
            capture_output=True,
            text=True,
        )
        for line in fmt.stdout.splitlines() + fmt.stderr.splitlines():
            m = re.search(r"(\w+)__cell(\d+)\.py", line)
            if m:
                page = joined[m.group(1)]
                start = list(cells(page.read_text(encoding="utf-8")))[int(m.group(2))][0]
                print(f"{page.relative_to(ROOT)}:{start}: cell not formatted (run scripts/lint_chapters.py --fix)")
                problems += 1
    return problems


def fix(paths: list[Path]) -> None:
    for page in paths:
        text = page.read_text(encoding="utf-8")
        out, pos = [], 0
        for _, code, offset in cells(text):
            new = code
            for step in (["check", "--fix-only", "--select", "I", *RULES[4:]], ["format"]):
                r = subprocess.run(
                    [*RUFF, *step, "--isolated", "--line-length", str(WIDTH), "-"], input=new,
                    capture_output=True, text=True,
                )  # fmt: skip
                new = r.stdout if r.returncode == 0 else new
            out.append(text[pos:offset])
            out.append(new)
            pos = offset + len(code)
        out.append(text[pos:])
        new = "".join(out)
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"formatted {page.relative_to(ROOT)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fix", action="store_true", help="format the code cells in place")
    ap.add_argument("pages", nargs="*", type=Path, help="pages to check (default: every page with code cells)")
    args = ap.parse_args(argv)
    paths = [p.resolve() for p in args.pages] or pages()
    if args.fix:
        fix(paths)
    n = check(paths)
    summary = f"{n} problem(s) in the code cells of" if n else "all checks passed in the code cells of"
    print(f"{summary} {len(paths)} page(s)")
    return 1 if n else 0


if __name__ == "__main__":
    sys.exit(main())
