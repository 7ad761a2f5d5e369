# The two commands at the top of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 4599
DATA   ?= ./data

.PHONY: run test install dev-install lint bench clean

$(BIN)/gatehouse: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(BIN)/gatehouse

dev-install: $(VENV)/.dev-installed

run: install
	$(BIN)/gatehouse serve --host $(HOST) --port $(PORT) --data $(DATA)

test: dev-install
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: dev-install
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
