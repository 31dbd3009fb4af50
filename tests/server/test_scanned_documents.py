"""Scans, screenshots and tables uploaded through the API: found by search, cited at their page, and
the documents API saying what was read (real Tesseract, real embedder, real index through the sink).

Failure modes covered: OCR'd text not reaching the index, a chunk or a citation losing its page,
the record of what was read missing from the documents API or lost when the same file comes again.
"""

from __future__ import annotations

import io

import pytest

from ingest.parse import READER_REVISIONS
from tests.conftest import text_image
from tests.server.conftest import make_person, start_server
from tests.test_ocr import ENGLISH, GERMAN, scanned_pdf, table_pdf

SCREENSHOT = "Screenshot of the settings: the VPN gateway is called heron-gate-seven."
TABLE_QUESTION = "What is the budget of Quokka Island?"


def _png(lines: list[str]) -> bytes:
    out = io.BytesIO()
    text_image(lines).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def scanned_server(tmp_path_factory, embedder, llm):
    server, runtime = start_server(tmp_path_factory.mktemp("scans"), embedder, llm, ocr_languages="eng+deu")
    admin = make_person(runtime, server.url, "scans-admin@example.com", "admin")
    files = {
        "scan.pdf": scanned_pdf([ENGLISH], [GERMAN]),
        "settings.png": _png([SCREENSHOT]),
        "budget.pdf": table_pdf(),
    }
    response = admin.client.post("/api/v1/documents", files=[("files", item) for item in files.items()])
    assert response.status_code == 200, response.text
    ids = {r["filename"]: r["document_id"] for r in response.json() if r["status"] == "added"}
    assert set(ids) == set(files), response.text
    yield admin, ids, files
    server.stop()


@pytest.mark.parametrize(
    ("query", "filename", "page"),
    [
        ("When is the boiler room inspected?", "scan.pdf", 1),
        ("Wann schließt die Tür?", "scan.pdf", 2),
        ("What is the VPN gateway called?", "settings.png", None),
        (TABLE_QUESTION, "budget.pdf", 3),
    ],
)
def test_what_ocr_and_tables_read_is_found_at_its_page(scanned_server, query, filename, page):
    admin, ids, _ = scanned_server
    [hit] = admin.client.get("/api/v1/search", params={"q": query, "k": 1}).json()
    assert (hit["document_id"], hit["page"]) == (ids[filename], page)


def test_a_citation_opens_the_original_at_its_page(scanned_server):
    admin, ids, files = scanned_server
    body = admin.client.post("/api/v1/ask", json={"question": TABLE_QUESTION}).json()
    cited = [s for s in body["sources"] if s["id"] == ids["budget.pdf"]]
    assert cited and cited[0]["page"] == 3 and "Quokka Island | 4,750 EUR" in cited[0]["snippet"]
    original = admin.client.get(f"/api/v1/documents/{ids['budget.pdf']}/content")
    assert original.content == files["budget.pdf"]  # the page= fragment is the browser's to follow


def test_the_documents_api_says_what_was_read(scanned_server):
    admin, ids, _ = scanned_server
    scan = admin.client.get(f"/api/v1/documents/{ids['scan.pdf']}").json()["read"]
    assert (scan["format"], scan["pages"], scan["text_pages"], scan["ocr_pages"]) == ("pdf", 2, 0, 2)
    assert 80 < scan["ocr_confidence"] <= 100 and scan["warnings"] == []
    screenshot = admin.client.get(f"/api/v1/documents/{ids['settings.png']}").json()["read"]
    assert screenshot["ocr_pages"] == 1 and screenshot["ocr_confidence"] > 80
    listed = {d["id"]: d["read"] for d in admin.client.get("/api/v1/documents").json()["items"]}
    assert listed[ids["budget.pdf"]] == {
        "format": "pdf", "pages": 4, "text_pages": 4, "ocr_pages": 0, "ocr_confidence": None, "tables": 1,
        "warnings": [], "revision": READER_REVISIONS["pdf"],
    }  # fmt: skip


def test_the_same_files_again_keep_what_was_read_and_their_pages(scanned_server):
    admin, ids, files = scanned_server
    again = admin.client.post("/api/v1/documents", files={"files": ("scan.pdf", files["scan.pdf"])}).json()[0]
    assert again["status"] == "unchanged"
    assert admin.client.get(f"/api/v1/documents/{ids['scan.pdf']}").json()["read"]["ocr_pages"] == 2
    # New readers are given to the stored chunks in place: they keep their pages.
    shared = {"files": ("budget.pdf", files["budget.pdf"])}
    assert admin.client.post("/api/v1/documents", files=shared, data={"groups": "finance"}).json()[0]["status"] == "unchanged"
    [hit] = admin.client.get("/api/v1/search", params={"q": TABLE_QUESTION, "k": 1}).json()
    assert (hit["document_id"], hit["page"]) == (ids["budget.pdf"], 3)
