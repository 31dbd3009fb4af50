"""Keep every library off the network.

Enclave runs air-gapped: no model hub, no telemetry, no tracing service. These
switches must be in the environment before the libraries are imported, which is
why every top-level package imports this module first. They are forced, not
defaulted, so a stray variable in a service file cannot turn reach back on.
"""

import os

_OFFLINE_ENVIRONMENT = {
    # Hugging Face hub, transformers, sentence-transformers: never download.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    # unstructured (and Scarf-based analytics in its dependencies).
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    # Chroma's anonymized product telemetry (also switched off in its Settings).
    "ANONYMIZED_TELEMETRY": "False",
    # LangChain / LangSmith tracing.
    "LANGCHAIN_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    "LANGSMITH_TRACING": "false",
    "LANGSMITH_TRACING_V2": "false",
    # Tokenizers forks worker threads that fight llama.cpp for the few cores.
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce() -> None:
    os.environ.update(_OFFLINE_ENVIRONMENT)
    for key in ("LANGCHAIN_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_ENDPOINT", "LANGSMITH_ENDPOINT"):
        os.environ.pop(key, None)


enforce()
