# Two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test venv clean-data

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: setup.py $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

# Today's forecast (today = current date in CPT) on the embedded market simulator.
demo: $(VENV)/.installed
	@RTLMP_CONFIG= $(BIN)/python -m pipeline.demo

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

clean-data:
	rm -rf data logs
