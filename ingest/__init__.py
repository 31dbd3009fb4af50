"""Ingestion, the adapter between documents and the index: the document contract every source hands over
(``documents.py``), reading files into text (``parse.py``, with readers of its own in ``formats.py``), finding
the files inside mails and archives (``containers.py``), splitting text (``chunk.py``), and embedding and
writing the chunks (``index.py``). What to index and what was indexed is the application's ingestion sink
(``enclave/sink.py``). Imports only ``assistant/``."""

import assistant.offline  # noqa: F401
