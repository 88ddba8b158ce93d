# Two entry points for a fresh machine with only python3 and make:
#   make run   - install everything into .venv and run the licence-plate scenario
#   make test  - install everything into .venv and run lint, types and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MPLBACKEND := Agg

.PHONY: run test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mecsim simulate license-plate

lint: $(STAMP)
	$(BIN)/ruff check offload scheduler simulator tests benchmarks
	$(BIN)/mypy

# Fast tests first (fail early), then the slow statistical validation; pytest exits 5 when a selection is empty.
test: lint
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -n 2 -m "not slow" -q
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -n 2 -m slow -q; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow" -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_decide.py
	$(BIN)/python benchmarks/bench_sim.py
	$(BIN)/python benchmarks/bench_lifecycle.py
	$(BIN)/python benchmarks/bench_place.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_research.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
