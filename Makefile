# Профмаршрут. `make run` and `make test` work from a fresh clone with only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-fast lint install migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p instance
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo --if-empty

run: demo
	@echo ""
	@echo "Профмаршрут: http://$(HOST):$(PORT)"
	@echo "Демо-входы (пароль demo): admin@demo.local, organizer@demo.local, school@demo.local"
	@echo ""
	PROFROUTE_BASE_URL="$${PROFROUTE_BASE_URL:-http://$(HOST):$(PORT)}" $(FLASK) run --host $(HOST) --port $(PORT)

# The whole suite on SQLite (browser tests skip with a reason when Chromium is missing,
# unless CI=true). Set TEST_DATABASE_URL to run it on PostgreSQL.
test: migrate
	$(BIN)/pytest

# The quick loop while working: no browser tests, no whole-demo loads, no API fuzzing.
test-fast: migrate
	$(BIN)/pytest -m "not browser and not demo and not fuzz"

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]): layers, no cycles.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo

clean:
	rm -rf $(VENV) instance/profroute.db* .pytest_cache
