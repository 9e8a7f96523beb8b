# Serverless Architectures Lab Book: set-up and the everyday commands.
#   make lab     set up if needed, then open the course in JupyterLab
#   make test    set up if needed, then every test and every notebook (nbval)
# Run `make help` for the rest. Set-up lives in scripts/setup.sh and is idempotent.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PY := .venv/bin/python
# Interpreter used to create .venv (default: first python3 >= 3.10 on PATH).
PYTHON ?=
export PYTHON
# pytest-xdist workers for `make test`: auto (one per core) or 0 to run in one process.
JOBS ?= auto
# Extra arguments: make test ARGS='-k cli -x'; make lab LAB_ARGS='--port 9999'
ARGS ?=
LAB_ARGS ?=
START := notebooks/00-start-here/00-start-here.ipynb
# JupyterLab refuses to run as root without --allow-root (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# nbval: strict output comparison on course notebooks and lab solutions; student copies are
# generated from solutions (their checks fail on purpose) and notebooks under tests/ are data.
NOTEBOOK_DIRS := $(wildcard notebooks labs)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	--ignore-glob='*-student.ipynb' --ignore-glob='$(CURDIR)/tests/*.ipynb'
# Benchmarks: their own runner when there is one, else pytest with output shown.
BENCH := $(if $(wildcard tests/benchmarks/run.py),$(PY) tests/benchmarks/run.py,\
	$(PY) -m pytest tests/benchmarks -p no:cacheprovider -s)
XDIST := $(if $(filter 0,$(JOBS)),,-n $(JOBS) --dist loadfile)

.PHONY: help setup lab test book bench diagrams lint format clean distclean

help: ## list the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## create .venv, install the project and Graphviz (instant when up to date)
	@bash scripts/setup.sh

lab: setup ## open the course in JupyterLab (make lab LAB_ARGS='--port 9999 --no-browser')
	$(PY) -m jupyterlab $(ALLOW_ROOT) --ServerApp.root_dir=. \
		$(if $(wildcard $(START)),--LabApp.default_url=/lab/tree/$(START)) $(LAB_ARGS)

test: ## run every test and every notebook under nbval (sets up, with Chromium for the browser tests)
	@bash scripts/setup.sh --browser
	$(PY) -m pytest tests $(NOTEBOOK_DIRS) --ignore=tests/benchmarks $(NBVAL) $(XDIST) $(ARGS)

book: setup ## execute every notebook in place and refresh the committed outputs
	$(PY) -m helpers.cli run --write $(ARGS)

bench: setup ## run the benchmarks in tests/benchmarks (make bench ARGS=runtime for one group)
	$(BENCH) $(ARGS)

diagrams: setup ## refresh the committed diagram renders (diagrams/*.png) with Graphviz
	$(PY) -m helpers.show

lint: setup ## ruff check and format check, notebooks included
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup ## apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean: ## remove caches and build leftovers (keeps .venv)
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info
	find . -path ./.venv -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) \
		-type d -prune -exec rm -rf {} +

distclean: clean ## also remove .venv (the next command sets up from nothing)
	rm -rf .venv
