# The two commands at the top of README.md: `make run` and `make test`.
# Both install exactly the lock (requirements/*.txt: every version pinned, every file hashed), starting from
# nothing but python3. `make lock` refreshes the lock on purpose; `make test-latest` tries the newest releases.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 4599
DATA   ?= ./data
LATEST ?= .venv-latest
PIP    := $(BIN)/python -m pip --disable-pip-version-check
LOCK   := $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal --python-version 3.11

.PHONY: run test install dev-install lint typecheck lock test-latest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The project itself goes in last, without its dependencies (they came from the lock) and without a build
# environment of its own (setuptools comes from the lock too).
$(VENV)/.installed: requirements/main.txt requirements/build.txt pyproject.toml | $(BIN)/python
	$(PIP) install -q --require-hashes -r requirements/build.txt -r requirements/main.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.dev-installed: requirements/dev.txt requirements/build.txt pyproject.toml | $(BIN)/python
	$(PIP) install -q --require-hashes -r requirements/build.txt -r requirements/dev.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

run: install
	$(BIN)/gatehouse serve --host $(HOST) --port $(PORT) --data $(DATA)

test: dev-install
	scripts/ensure-chromium
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: dev-install
	$(BIN)/ruff check src tests

typecheck: dev-install
	$(BIN)/mypy

# Re-resolve every pin to the newest release the bounds in pyproject.toml allow. Review the diff, run
# `make test`, and commit the lock with the change that needed it.
lock: dev-install
	$(LOCK) --upgrade -o requirements/main.txt
	$(LOCK) --upgrade --extra dev -o requirements/dev.txt
	echo 'setuptools>=77' | $(BIN)/uv pip compile - --quiet --generate-hashes --universal --python-version 3.11 \
		--upgrade -o requirements/build.txt

# The suite against the newest releases, in a venv of its own (not in CI): an upgrade's failures, in view
# before the lock moves.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install -q --upgrade pip
	$(LATEST)/bin/python -m pip install -q --upgrade --upgrade-strategy eager -e '.[dev]'
	$(LATEST)/bin/python -m pip list --format=freeze | grep -v '^-e' > $(LATEST)/versions.txt
	$(LATEST)/bin/ruff check src tests
	$(LATEST)/bin/mypy
	$(LATEST)/bin/python -m pytest -n 2 --dist loadgroup -q

clean:
	rm -rf $(VENV) $(LATEST) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
