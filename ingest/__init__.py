"""Ingestion, the adapter between documents and the index: the document contract every source hands over
(``documents.py``), reading files into text (``parse.py``; PDFs page by page in ``pdf.py``, scans and
images with OCR in ``ocr.py`` and the record of how each was read in ``reading.py``; other formats' readers in
``formats.py``), finding the files inside mails and archives (``containers.py``), splitting text
(``chunk.py``), and embedding and writing the chunks (``index.py``). What to index and what was indexed is the
application's ingestion sink (``enclave/sink.py``). Imports only ``assistant/``."""

import assistant.offline  # noqa: F401
