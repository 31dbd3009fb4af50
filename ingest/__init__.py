"""Ingestion: parse, chunk, embed and index documents; detect what changed."""

import assistant.offline  # noqa: F401
