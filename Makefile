# Xinglin: `make demo` sets up and serves the demo county; `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench system-packages clean

install: $(STAMP)
	@cd xinglin && ../$(BIN)/xinglin compilemessages -v0

$(STAMP): pyproject.toml requirements.lock
	@bash scripts/system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/xinglin migrate
	$(BIN)/xinglin demo
	$(BIN)/xinglin serve

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: install
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,bench]'
	bash scripts/bench.sh

clean:
	rm -rf $(VENV) var/*.sqlite3
