# Enclave's two everyday commands are `make run` and `make test`; the rest are their steps.
# Both are idempotent: a second run only does what changed.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BENCH_INSTALLED := $(VENV)/.installed-bench
# pip finds the CPU build of torch in its configured find-links here; elsewhere point
# it at PyTorch's CPU wheel index, e.g. TORCH_PIP_ARGS="--index-url <cpu index>".
TORCH_PIP_ARGS ?=
# llama.cpp built for any x86-64 CPU with AVX2, not with -march=native: on CPUs with AMX (Sapphire
# Rapids and later) a native build takes llama.cpp's AMX path, which crashes evaluating a prompt in
# virtual machines. The wheel is kept per build flags, since pip's own cache ignores them.
LLAMA_CPP_VERSION := $(shell sed -n 's/^llama_cpp_python==//p' constraints.txt)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_WHEELS := $(HOME)/.cache/enclave/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)

# System packages Enclave runs with: Tesseract reads scanned pages and images (OCR).
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-eng
# System packages the tests drive: a real browser for the UI tests, PostgreSQL's server
# binaries (the tests start their own throwaway cluster; installing creates none), OpenLDAP's
# slapd (the tests start their own on loopback ports; installing configures and starts none),
# Tesseract with German too, and a font the OCR tests draw their scanned pages in.
SYSTEM_TEST_PACKAGES := $(SYSTEM_PACKAGES) tesseract-ocr-deu fonts-dejavu-core chromium postgresql slapd ldap-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The certified OpenID provider the identity tests sign in against (npm's oidc-provider), from its lockfile.
OIDC_PROVIDER := tests/identity/oidc_provider

.PHONY: run test bench install model samples system-packages system-test-packages

run: system-packages model samples
	$(BIN)/enclave serve

# The layers contract first (pyproject.toml, [tool.importlinter]): an import pointing up fails the build.
test: install model system-test-packages $(OIDC_PROVIDER)/node_modules/.package-lock.json
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# benchmarks.batching also measures llama-server when LLAMA_SERVER names its binary (not on PyPI or in Debian).
# Each benchmark measures Enclave against a reference in the same run and writes
# benchmarks/results/NAME.json and .md; the judged answers are measured per catalog model;
# the last step puts the tables into the README.
bench: install model $(BENCH_INSTALLED)
	$(BIN)/python -m benchmarks.query
	$(BIN)/python -m benchmarks.concurrency
	$(BIN)/python -m benchmarks.batching
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.footprint
	$(BIN)/python -m benchmarks.fairness
	$(BIN)/python -m benchmarks.ocr
	$(BIN)/python -m benchmarks.manual
	$(BIN)/python -m benchmarks.soak
	$(BIN)/enclave eval handbook
	$(BIN)/enclave models pull qwen2.5-coder-1.5b-instruct
	$(BIN)/enclave eval handbook --model qwen2.5-coder-1.5b-instruct
	$(BIN)/python -m benchmarks.summary

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, so nothing below pulls a multi-GB GPU build.
	$(BIN)/pip install torch==2.13.0 $(TORCH_PIP_ARGS)
	ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" \
		$(BIN)/pip wheel --no-deps --no-cache-dir -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	$(BIN)/pip install -c constraints.txt $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	$(BIN)/pip install -c constraints.txt -e '.[test]'
	touch $@

# The benchmarks' references (LangChain parts), only for `make bench`: tests and CI never install them.
$(BENCH_INSTALLED): $(INSTALLED)
	$(BIN)/pip install -c constraints.txt -e '.[bench]'
	touch $@

$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package-lock.json
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund

model: install
	$(BIN)/enclave models pull  # the default model, and the check model that confirms its answers

samples: install
	$(BIN)/enclave ingest samples/

# Installs those of $(1) that are missing (PostgreSQL and slapd told to create and configure nothing).
define apt_install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		$(SUDO) mkdir -p /etc/postgresql-common/createcluster.d && \
		echo "create_main_cluster = false" | $(SUDO) tee /etc/postgresql-common/createcluster.d/enclave-tests.conf >/dev/null && \
		echo "slapd slapd/no_configuration boolean true" | $(SUDO) debconf-set-selections && \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

system-packages:
	$(call apt_install_missing,$(SYSTEM_PACKAGES))

system-test-packages:
	$(call apt_install_missing,$(SYSTEM_TEST_PACKAGES))
