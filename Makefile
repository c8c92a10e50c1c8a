# carbot — the front door. Every target creates or updates .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint format bench screenshots clean migration

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make demo: load the demo study into var/ on SQLite, seed answers, and run carbot (no tokens needed)
demo: $(STAMP)
	$(BIN)/carbot demo up

## make test: the whole suite (PostgreSQL and browser tests skip with a reason when unavailable)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot adapters prompts storage digests

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m tests.bench

## make screenshots: every demo page (web chat, review, digests) at 390 and 1280 px into var/shots/
screenshots: $(STAMP)
	$(BIN)/python -m tests.shots var/shots

clean:
	rm -rf $(VENV) var build *.egg-info

## make migration: regenerate the initial migration from storage/models.py (before the first release)
migration: $(STAMP)
	rm -f storage/migrations/versions/0001_initial_schema.py /tmp/carbot-migration.db
	$(BIN)/python -c "from alembic import command; from storage.db import alembic_config; command.revision(alembic_config('sqlite+aiosqlite:////tmp/carbot-migration.db'), message='initial schema', autogenerate=True, rev_id='0001')"
	$(BIN)/ruff format storage/migrations/versions
