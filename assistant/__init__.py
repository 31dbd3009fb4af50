"""Enclave: a private RAG assistant appliance."""

from assistant import offline  # noqa: F401  (must run before any library import)

__version__ = "0.1.0"
