# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-gpu style check bench docs clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/longitude demo --patients $${PATIENTS:-200} --root $${LONGITUDE_ROOT:-./longitude-data}

test: $(STAMP)
	$(BIN)/python -m pytest -m "not gpu" -q

test-gpu: $(STAMP)
	$(BIN)/python -m pytest -m gpu -q

style: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

docs: $(STAMP)
	$(BIN)/python docs/build_api.py --out docs/api

clean:
	rm -rf $(VENV) longitude-data .pytest_cache
