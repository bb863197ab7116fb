# Two commands do everything (see README):  make book   |   make test
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JB := $(VENV)/bin/jupyter-book
STAMP := $(VENV)/.installed
BUILD_FLAGS := -W -n --keep-going
HTML := _build/html
export PYTHONDONTWRITEBYTECODE := 1
export TQDM_MININTERVAL := 5

.PHONY: help venv data assets browser notebooks book lint test test-package test-postbuild test-student rebuild student \
	bench clean distclean

help:
	@echo "make book    set up .venv, fetch data, build the HTML book (every chapter executed)"
	@echo "make test    set up, package tests, from-scratch book build with warnings as errors, post-build checks"
	@echo "make lint    ruff: lint + format check of the package (120 columns) and the chapters' code (88)"
	@echo "make data    fetch and verify the data sets (idempotent)"
	@echo "make student build the student edition (no solutions) into _build_student/html (+ notebooks)"
	@echo "make notebooks  regenerate the chapters' .ipynb twins (Colab/Binder) after editing a chapter"
	@echo "make bench   run the benchmark scripts"
	@echo "make clean   remove the built book"

# (Re)install only when the pinned requirements or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

data: venv
	$(PY) -m spectral_bias.data fetch

# --- reader infrastructure: offline assets, browser, notebook twins, student edition -----------------------------
STUDENT := _build_student
TIMES := .make-test-times.txt
# MathJax, require.js and the widget manager from npm (pinned, sha256) into _vendor/: the site needs no CDN.
assets: venv
	$(PY) scripts/fetch_assets.py

# Headless Chromium for the browser test, from Debian's packages (CI machines are fresh; we are root there).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

notebooks: venv
	$(PY) -m spectral_bias.booktools.notebooks

# Solutions removed from pages, search index, downloadable sources and notebooks; the reader build's execution
# cache is reused (same notebooks), so this costs a render, not a re-execution.
student: venv data assets
	$(PY) -m spectral_bias.booktools.notebooks --student $(STUDENT)
	rm -rf $(STUDENT)/_build $(STUDENT)/html
	$(JB) build . --config $(STUDENT)/_config.yml --path-output $(STUDENT) $(BUILD_FLAGS)
	mv $(STUDENT)/_build/html $(STUDENT)/html
	@echo "The student edition is at: $(CURDIR)/$(STUDENT)/html/index.html (notebooks: $(STUDENT)/notebooks/)"

test-student: venv
	$(PY) -m pytest tests/test_student_edition.py

# Runs a make target and prints how long it took.
define timed
	@t=$$SECONDS; $(MAKE) --no-print-directory $(1); echo "== make $(1): $$((SECONDS - t)) s" | tee -a $(TIMES)
endef
# -----------------------------------------------------------------------------------------------------------------

# The execution cache cannot see src/: drop it whenever the package sources change.
define guard_cache
	@h=$$(find src -name '*.py' -o -name '*.json' -o -path '*/templates/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16); \
	if [ "$$(cat _build/.src-hash 2>/dev/null)" != "$$h" ]; then rm -rf _build/.jupyter_cache; fi; \
	mkdir -p _build; echo "$$h" > _build/.src-hash
endef

book: venv data assets notebooks
	$(guard_cache)
	$(JB) build . $(BUILD_FLAGS)
	@echo "The book is at: $(CURDIR)/$(HTML)/index.html"

# ruff settings live in pyproject.toml; chapter code cells are checked by scripts/lint_chapters.py.
lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) scripts/lint_chapters.py

# (assets: the notebook render test typesets the twins with the vendored MathJax, in node)
test-package: venv assets
	$(PY) -m pytest tests --ignore=tests/postbuild --ignore=tests/test_student_edition.py

rebuild: venv data assets
	rm -rf _build
	$(JB) build . $(BUILD_FLAGS)

test-postbuild: venv browser
	$(PY) -m pytest tests/postbuild
	@echo "Per-chapter execution times (s):"; cat _build/execution_times.txt

test: venv data assets browser
	@rm -f $(TIMES)
	$(call timed,lint)
	$(call timed,test-package)
	$(call timed,rebuild)
	$(call timed,test-postbuild)
	$(call timed,student)
	$(call timed,test-student)
	@echo "make test: step times"; cat $(TIMES)

bench: venv
	@for s in scripts/bench_*.py; do echo "== $$s"; OMP_NUM_THREADS=1 $(PY) $$s; done

clean:
	rm -rf _build $(STUDENT)

distclean: clean
	rm -rf $(VENV) data/raw data/cache _vendor
