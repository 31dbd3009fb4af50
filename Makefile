# Enclave's two everyday commands are `make run` and `make test`; the rest are their steps.
# Both are idempotent: a second run only does what changed.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# pip finds the CPU build of torch in its configured find-links here; elsewhere point
# it at PyTorch's CPU wheel index, e.g. TORCH_PIP_ARGS="--index-url <cpu index>".
TORCH_PIP_ARGS ?=

.PHONY: run test install model samples clean-data

run: model samples
	$(BIN)/enclave chat

test: install model
	$(BIN)/python -m pytest

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, so nothing below pulls a multi-GB GPU build.
	$(BIN)/pip install torch==2.13.0 $(TORCH_PIP_ARGS)
	$(BIN)/pip install -c constraints.txt -e '.[test]'
	touch $@

model: install
	$(BIN)/enclave models pull

samples: install
	$(BIN)/enclave ingest samples/

clean-data:
	rm -rf data
