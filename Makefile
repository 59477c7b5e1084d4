# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup bytecode demo test test-fast test-gpu style check bench docs clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	$(MAKE) bytecode
	touch $(STAMP)

# An editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE set every `longitude` start (and each
# parser process) compiles ~130 of our modules again: 0.2 CPU s of a materialize's start-up. Stale files are
# compiled on import as before (in memory), so rerunning this after edits is optional.
bytecode:
	$(BIN)/python -m compileall -q schemas pipelines deid model quality featurestore synthetic

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/longitude demo --patients $${PATIENTS:-200} --root $${LONGITUDE_ROOT:-./longitude-data}

# The MEDS tools (meds_reader, meds-torch-data, MEDS-Tab) for tests/model/test_interop.py, in a venv of their own
# (their polars<2 pin conflicts with ours); it reuses .venv's other packages. Without it those tests skip.
INTEROP := bench/.venv-interop
$(INTEROP)/.installed: $(STAMP) bench/interop-requirements.txt
	test -x $(INTEROP)/bin/python || $(PY) -m venv $(INTEROP)
	echo "$(CURDIR)/$(VENV)/lib/python3.11/site-packages" > $(INTEROP)/lib/python3.11/site-packages/zz_main_venv.pth
	$(INTEROP)/bin/pip install -q -r bench/interop-requirements.txt
	touch $@

interop: $(INTEROP)/.installed

test: $(STAMP)
	$(BIN)/python -m pytest -m "not gpu" -q

# The edit-test loop: under 60 s; leaves out tests marked slow (tests/slow_tests.txt), integration and gpu.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not integration and not gpu" -q -p no:cacheprovider

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
