"""Sources of documents, and nothing else: each connector yields documents, deletions, failures and
checkpoints (``interfaces.py``); ``registry.py`` maps a type to its class. Running syncs, storing configs and
scheduling them is the application's (``enclave/sources/``). Imports ``ingest/`` (the document contract)
and ``assistant/``."""

import assistant.offline  # noqa: F401
