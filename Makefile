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

.PHONY: help venv data book test test-package test-postbuild rebuild student bench clean distclean

help:
	@echo "make book    set up .venv, fetch data, build the HTML book (every chapter executed)"
	@echo "make test    set up, package tests, from-scratch book build with warnings as errors, post-build checks"
	@echo "make data    fetch and verify the data sets (idempotent)"
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

# The execution cache cannot see src/: drop it whenever the package sources change.
define guard_cache
	@h=$$(find src -name '*.py' -o -name '*.json' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16); \
	if [ "$$(cat _build/.src-hash 2>/dev/null)" != "$$h" ]; then rm -rf _build/.jupyter_cache; fi; \
	mkdir -p _build; echo "$$h" > _build/.src-hash
endef

book: venv data
	$(guard_cache)
	$(JB) build . $(BUILD_FLAGS)
	@echo "The book is at: $(CURDIR)/$(HTML)/index.html"

test-package: venv
	$(PY) -m pytest tests --ignore=tests/postbuild

rebuild: venv data
	rm -rf _build
	$(JB) build . $(BUILD_FLAGS)

test-postbuild: venv
	$(PY) -m pytest tests/postbuild
	@echo "Per-chapter execution times (s):"; cat _build/execution_times.txt

test: venv data
	$(MAKE) --no-print-directory test-package
	$(MAKE) --no-print-directory rebuild
	$(MAKE) --no-print-directory test-postbuild

bench: venv
	@for s in scripts/bench_*.py; do echo "== $$s"; OMP_NUM_THREADS=1 $(PY) $$s; done

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) data/raw data/cache
