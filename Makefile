# Two entry points a new user needs (README): `make demo` and `make test`.
# Both create .venv and install what they need; nothing has to be installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow lint typecheck imports unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,mlmd]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/graphlets demo --dir ./graphlets-demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

test: lint typecheck imports
	sh scripts/ensure_chromium.sh
	$(BIN)/pytest -n 2 --dist loadfile -q -m "not slow"

# The long soak, fuzz (10,000+ cases) and race runs; their figures go to docs/reliability.md.
test-slow: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -q -m slow

unit: $(STAMP)
	$(BIN)/pytest -m "not slow and not integration and not postgres" -q

bench: $(STAMP)
	$(BIN)/python bench/store_ingest.py

clean:
	rm -rf $(VENV) graphlets-demo .pytest_cache .mypy_cache .ruff_cache
