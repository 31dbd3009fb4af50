"""Enclave's application layer: what the appliance does, built from the parts below it.

- ``runtime.py``: the composition root; builds each component from the settings, once.
- ``documents.py``: the documents repository, every read and write of document and failure records.
- ``sink.py``: the ingestion sink, the one way into the index (folders, uploads and syncs).
- ``folders.py``, ``uploads.py``: the two built-in sources, local files and admins' uploads.
- ``sources/``: connected sources: the connector service, sealed configs, the sync engine, the scheduler.
- ``evaluation/``: ``enclave eval``, quality measured on known questions.
- ``model_pull.py``: installing catalog models from their packages.
- ``cli/``: the ``enclave`` command, one module per noun.

It imports ``connectors/``, ``ingest/`` and ``assistant/``, never ``web/`` (only
``enclave serve`` starts the web app); the layers are checked by ``lint-imports``.
"""
