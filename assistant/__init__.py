"""Enclave's core: the RAG pipeline, retrieval, the stores, LLM and embedding backends, access control,
accounts, prompts and settings. It imports no other Enclave package (see README "Design")."""

from assistant import offline  # noqa: F401  (must run before any library import)

__version__ = "0.1.0"
