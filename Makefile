# The README's two commands are `make run` and `make test`; everything else here serves them.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
MODEL_DIR ?= models/default
LINT_PATHS := app model training tests bench
export PARCEL_RADAR_MODEL_DIR ?= $(MODEL_DIR)
export PARCEL_RADAR_DATABASE_URL ?= sqlite:///var/parcel-radar.db

.PHONY: run test lint typecheck pytest model chromium constraints clean screenshots unseen-report

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $@

$(MODEL_DIR)/manifest.json: | $(BIN)/.installed
	$(BIN)/python -m training train --simulate --seeds 0,1,2 --out $(MODEL_DIR)

model: $(MODEL_DIR)/manifest.json

# The shipped model on five simulated worlds it never saw (default scenario, other seeds and markets); ~20 min.
unseen-report: model
	$(BIN)/python -m training evaluate-worlds --model $(MODEL_DIR) --seeds 5,6,7,8,9 --out $(MODEL_DIR)/unseen

run: $(BIN)/.installed model
	$(BIN)/python -m app migrate
	$(BIN)/python -m app demo
	$(BIN)/python -m app serve --host $(HOST) --port $(PORT)

chromium:
	@test -x /usr/bin/chromium || scripts/install-chromium

lint: $(BIN)/.installed
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed chromium
	$(BIN)/pytest

test: lint typecheck pytest

screenshots: $(BIN)/.installed chromium
	PARCEL_RADAR_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest tests/web/test_officer_journey.py

constraints: $(BIN)/.installed
	$(BIN)/pip freeze --all --exclude-editable | grep -v '^pip==' | sed '1i # Pinned versions of every dependency (runtime, training and dev). Regenerate with `make constraints`.' > constraints.txt

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
