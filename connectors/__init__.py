"""Sources of documents: each connector yields documents, deletions and checkpoints."""

import assistant.offline  # noqa: F401
