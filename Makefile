# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv when it is
# missing and installs what it needs; a stamp file makes a second run skip the install.
# bayeskit needs Python >= 3.12 (JAX 0.11+ and ArviZ 1.x do): the first such interpreter on PATH or
# under pyenv, unless PYTHON is given.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3); do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p || echo $$p; } && break; done)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
OUT ?= out

.PHONY: demo test test-fast lint bench clean

$(BIN)/activate:
	@test -n "$(PYTHON)" || { echo "error: bayeskit needs Python >= 3.12; none found on PATH or under ~/.pyenv. Install one, or pass PYTHON=/path/to/python3.12." >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-run

# The benchmarks' peers (Optuna, dynamax with its TensorFlow Probability) are not needed by the tests.
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PY) -m pip install --quiet -e ".[test,bench]"
	touch $@

demo: $(VENV)/.installed-run
	$(BIN)/bayeskit demo --out $(OUT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

# Two workers, whole files each (module fixtures and compiled JAX programs stay shared within a file); the 15
# slowest tests are listed so that the suite's time (limit: 8 minutes on 2 cores) stays watched.
test: lint
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15 --doctest-modules --doctest-glob=README.md src tests README.md

test-fast: $(VENV)/.installed-dev
	$(BIN)/pytest -q -m "not statistical" tests

GBSTATS_VENV := benchmarks/.cache/gbstats-venv

# gbstats pins NumPy < 2 and pandas < 2, so the A/B comparison runs it in a venv of its own.
$(GBSTATS_VENV)/bin/python:
	$(PYTHON) -m venv $(GBSTATS_VENV)
	$(GBSTATS_VENV)/bin/pip install --quiet gbstats==0.8.0 || rm -rf $(GBSTATS_VENV)

PYMC_VENV := benchmarks/.cache/pymc-venv

# PyMC (PyTensor) is a peer, not a dependency: its own venv keeps its pins out of ours.
$(PYMC_VENV)/bin/python:
	$(PYTHON) -m venv $(PYMC_VENV)
	$(PYMC_VENV)/bin/pip install --quiet "pymc>=5.20,<6" || rm -rf $(PYMC_VENV)

bench: $(VENV)/.installed-bench $(GBSTATS_VENV)/bin/python $(PYMC_VENV)/bin/python
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
