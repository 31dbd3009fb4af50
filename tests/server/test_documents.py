"""Uploading, listing and removing documents (admins), and opening an original (anyone allowed)."""

from __future__ import annotations

import pytest

from tests.conftest import write_documents


@pytest.fixture(scope="module")
def uploaded(enclave_server, tmp_path_factory):
    files = write_documents(tmp_path_factory.mktemp("uploads"), ["pdf", "docx"])
    payload = [("files", (p.name, p.read_bytes())) for p in files.values()]
    payload.append(("files", ("broken.pdf", b"%PDF-1.4 this is not really a pdf")))
    payload.append(("files", ("empty.txt", b"")))
    response = enclave_server.admin.client.post("/api/v1/documents", files=payload)
    assert response.status_code == 200, response.text
    return {r["filename"]: r for r in response.json()}


def test_each_upload_gets_its_own_status(uploaded):
    assert uploaded["sample.pdf"]["status"] == "added" and uploaded["sample.pdf"]["chunks"] >= 1
    assert uploaded["sample.docx"]["status"] == "added"
    assert uploaded["broken.pdf"]["status"] == "failed" and "pdf" in uploaded["broken.pdf"]["error"]
    assert uploaded["empty.txt"]["status"] == "failed" and "empty" in uploaded["empty.txt"]["error"]


def test_uploading_the_same_file_again_changes_nothing(enclave_server, tmp_path):
    # The same bytes: a freshly written .docx would differ in its embedded timestamps.
    content = write_documents(tmp_path, ["docx"])["docx"].read_bytes()
    results = [
        enclave_server.admin.client.post("/api/v1/documents", files={"files": ("minutes.docx", content)}).json()[0]
        for _ in range(2)
    ]
    assert [r["status"] for r in results] == ["added", "unchanged"]
    assert enclave_server.admin.client.delete(f"/api/v1/documents/{results[0]['document_id']}").status_code == 204


def test_documents_are_listed_by_source_and_page(enclave_server, uploaded):
    admin = enclave_server.admin.client
    page = admin.get("/api/v1/documents", params={"source": "upload", "page_size": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    second = admin.get("/api/v1/documents", params={"source": "upload", "page_size": 1, "page": 2}).json()
    assert {page["items"][0]["title"], second["items"][0]["title"]} == {"sample.pdf", "sample.docx"}
    files = admin.get("/api/v1/documents", params={"source": "files"}).json()
    assert {d["title"] for d in files["items"]} == {"parking.md", "sales-bonus.md", "board-minutes.md"}
    one = admin.get(f"/api/v1/documents/{uploaded['sample.pdf']['document_id']}").json()
    assert one["source_type"] == "upload" and one["chunk_count"] == uploaded["sample.pdf"]["chunks"]


def test_an_original_opens_for_those_allowed_to_see_it(enclave_server, uploaded):
    doc_id = uploaded["sample.pdf"]["document_id"]
    response = enclave_server.employee.client.get(f"/api/v1/documents/{doc_id}/content")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF") and response.headers["content-type"] == "application/pdf"
    assert "sandbox" in response.headers["content-security-policy"]
    secret = enclave_server.documents["sales-bonus.md"]
    assert enclave_server.employee.client.get(f"/api/v1/documents/{secret}/content").status_code == 200
    assert enclave_server.outsider.client.get(f"/api/v1/documents/{secret}/content").status_code == 404
    assert enclave_server.admin.client.get(f"/api/v1/documents/{secret}/content").status_code == 200


def test_group_restricted_uploads(enclave_server, tmp_path):
    path = write_documents(tmp_path, ["md"])["md"]
    result = enclave_server.admin.client.post(
        "/api/v1/documents", files={"files": ("hr-notes.md", path.read_bytes())}, data={"groups": "sales"}
    ).json()[0]
    content = f"/api/v1/documents/{result['document_id']}/content"
    assert enclave_server.employee.client.get(content).status_code == 200
    assert enclave_server.outsider.client.get(content).status_code == 404
    hits = enclave_server.outsider.client.get("/api/v1/search", params={"q": "guest wifi password", "k": 10}).json()
    assert result["document_id"] not in [h["document_id"] for h in hits]


def test_deleting_a_document_removes_it_from_search(enclave_server, tmp_path):
    path = write_documents(tmp_path, ["txt"])["txt"]
    admin = enclave_server.admin.client
    doc_id = admin.post("/api/v1/documents", files={"files": ("garage.txt", path.read_bytes())}).json()[0]["document_id"]
    query = {"q": "When does the parking garage close on weekdays?", "k": 10}
    assert doc_id in [h["document_id"] for h in admin.get("/api/v1/search", params=query).json()]
    assert admin.delete(f"/api/v1/documents/{doc_id}").status_code == 204
    assert admin.get(f"/api/v1/documents/{doc_id}").status_code == 404
    assert doc_id not in [h["document_id"] for h in admin.get("/api/v1/search", params=query).json()]
    assert admin.get(f"/api/v1/documents/{doc_id}/content").status_code == 404
