# Two entry points for a fresh machine with only python3 and make:
#   make run   - install mecsim (runtime dependencies only) into .venv and run the licence-plate scenario
#   make test  - install mecsim with the test tools into .venv and run lint, types and the whole test suite
# More: make notebooks (JupyterLab on notebooks/), make docs (the documentation site in site/), make bench.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export MPLBACKEND := Agg

.PHONY: run test test-fast lint bench docs notebooks clean

# One stamp per extra: `make run` installs no test tools, `make test` adds them (and what the docs build needs).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.$(if $(filter run,$*),,[$*])'
	touch $@

run: $(VENV)/.installed-run
	$(BIN)/mecsim simulate license-plate

lint: $(VENV)/.installed-test
	$(BIN)/ruff check offload scheduler simulator tests benchmarks docs/hooks
	$(BIN)/mypy

# Fast tests first (fail early), then the slow statistical validation; pytest exits 5 when a selection is empty.
test: lint
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -n 2 -m "not slow" -q
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -n 2 -m slow -q; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 -m "not slow" -q

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_decide.py
	$(BIN)/python benchmarks/bench_sim.py
	$(BIN)/python benchmarks/bench_lifecycle.py
	$(BIN)/python benchmarks/bench_place.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_research.py

# The documentation site: API reference from the docstrings, the scenario reference from the schema, the notebooks
# executed, the gallery drawn; --strict turns every warning (a broken link, a missing page) into a failure.
docs: $(VENV)/.installed-docs
	$(BIN)/mkdocs build --strict

# JupyterLab with jupytext: the .py notebooks open as notebooks on a double click (settings kept inside .venv).
notebooks: $(VENV)/.installed-notebooks
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp notebooks/jupyterlab-settings.json $(VENV)/share/jupyter/lab/settings/overrides.json
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis
