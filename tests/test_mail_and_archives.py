"""Mails with attachments, archives and the newer formats, indexed for real through every way in.

Real files (an Outlook .msg with a PDF attached, MIME mails, zips, a one-gigabyte zip bomb, OpenDocument,
RTF, EPUB), the real embedder, a real Chroma and SQLite; uploads over real HTTP. Failure modes covered: an
attachment or archive member not findable by search, or cited without its name; a part readable by someone
the mail or archive is hidden from; a part left behind (or a stale one kept) when the mail changes or goes;
a part pruned by a sync because the source lists only its container; a zip bomb expanded, half-indexed, or
refused without the limit in the failure record.
"""

from __future__ import annotations

import pytest

from assistant.access import Access, Viewer
from enclave.folders import FILES, ingest_paths
from enclave.sources import service
from enclave.sources.sync import SyncEngine
from enclave.uploads import UPLOADS
from ingest.index import Source, document_id
from tests.format_samples import (
    FORMAT_FACTS,
    eml_bytes,
    msg_bytes,
    pdf_bytes,
    write_samples,
    write_zip_bomb,
    zip_bytes,
)
from tests.server.conftest import make_person, start_server

FINANCE = Viewer(email="fiona@example.com", groups=frozenset({"finance"}))
OUTSIDER = Viewer(email="olaf@example.com")
INVOICE = "The invoice for the harbour crane totals 4711 kroner."
TIMESHEET = "Timesheets for the dredging crew are signed on Fridays."


def _hits(runtime, query: str, viewer: Viewer = Viewer.operator(), k: int = 3) -> list[str]:
    return [hit.origin.title for hit in runtime.assistant.search(query, viewer, k)]


def _external_ids(runtime, source: Source) -> set[str]:
    return runtime.documents.external_ids(source.id)


@pytest.fixture
def runtime(make_runtime):
    return make_runtime(with_llm=False)


def test_an_outlook_attachment_is_found_cited_by_name_and_shared_as_its_mail_is(runtime, tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    mail = msg_bytes("Quarterly invoice", "Please pay the attached invoice within thirty days.",
                     {"invoice.pdf": pdf_bytes(INVOICE)})  # fmt: skip
    (folder / "invoice.msg").write_bytes(mail)

    summary = ingest_paths(runtime.sink, [folder], access=Access.restricted(groups=["finance"]))

    assert summary.ok, summary.failed
    attachment = f"{folder / 'invoice.msg'}#attachment/1-invoice.pdf"
    assert _external_ids(runtime, FILES) == {str(folder / "invoice.msg"), attachment}
    assert _hits(runtime, "harbour crane invoice total", FINANCE)[0] == "invoice.pdf (attachment of: Quarterly invoice)"
    assert _hits(runtime, "pay within thirty days", FINANCE)[0] == "invoice.msg"
    assert _hits(runtime, "harbour crane invoice total", OUTSIDER) == []
    record = runtime.documents.get(document_id(FILES.id, attachment))
    assert Access.from_dict(record.access) == Access.restricted(groups=["finance"])

    ingest_paths(runtime.sink, [folder], access=Access.everyone())  # same mail, shared with everyone now
    assert _hits(runtime, "harbour crane invoice total", OUTSIDER)[0].startswith("invoice.pdf (attachment of")


def test_a_mail_changed_or_deleted_takes_its_attachments_along(runtime, tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    path = folder / "crew.eml"
    attachments = {"invoice.pdf": pdf_bytes(INVOICE), "timesheet.txt": TIMESHEET.encode()}
    path.write_bytes(eml_bytes("Crew paperwork", "Two files for the crew.", attachments))
    ingest_paths(runtime.sink, [folder])
    parts = {f"{path}#attachment/1-invoice.pdf", f"{path}#attachment/2-timesheet.txt"}
    assert _external_ids(runtime, FILES) == {str(path)} | parts
    assert _hits(runtime, "dredging crew timesheets", k=1) == ["timesheet.txt (attachment of: Crew paperwork)"]

    path.write_bytes(eml_bytes("Crew paperwork", "Only the invoice now.", {"invoice.pdf": attachments["invoice.pdf"]}))
    ingest_paths(runtime.sink, [folder])

    assert _external_ids(runtime, FILES) == {str(path), f"{path}#attachment/1-invoice.pdf"}
    assert "timesheet.txt (attachment of: Crew paperwork)" not in _hits(runtime, "dredging crew timesheets")

    path.unlink()
    ingest_paths(runtime.sink, [folder], prune=True)
    assert _external_ids(runtime, FILES) == set()
    assert not runtime.store.document_ids()


def test_a_sync_keeps_the_parts_of_the_items_it_lists_and_drops_them_with_their_container(runtime, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    (share / "crew.eml").write_bytes(eml_bytes("Crew paperwork", "Timesheet attached.",
                                               {"timesheet.txt": TIMESHEET.encode()}))  # fmt: skip
    record = service.create(runtime, "local", "Share", {"path": str(share)})
    source = Source(record.source_id, record.type)
    part = f"{share / 'crew.eml'}#attachment/1-timesheet.txt"

    for _ in range(2):  # the second full sync lists only crew.eml: its attachment must stay
        assert SyncEngine(runtime).sync(record.id, full=True).status == "succeeded"
        assert _external_ids(runtime, source) == {str(share / "crew.eml"), part}

    (share / "crew.eml").unlink()
    (share / "other.txt").write_text("Something else entirely.\n")
    assert SyncEngine(runtime).sync(record.id, full=True).status == "succeeded"
    assert _external_ids(runtime, source) == {str(share / "other.txt")}


def test_archives_are_indexed_member_by_member_and_nested_ones_too(runtime, tmp_path):
    folder = tmp_path / "archives"
    folder.mkdir()
    inner = zip_bytes({"crane.txt": INVOICE.encode()})
    (folder / "bundle.zip").write_bytes(zip_bytes({
        "timesheet.txt": TIMESHEET.encode(),
        "notes/menu.md": b"# Canteen\n\nThe canteen serves herring on Thursdays.\n",
        "../../outside.txt": b"The lighthouse lamp is cleaned every Sunday.\n",
        "old/archive.zip": inner,
    }))  # fmt: skip

    summary = ingest_paths(runtime.sink, [folder])

    assert summary.ok, summary.failed
    assert _hits(runtime, "dredging crew timesheets", k=1) == ["timesheet.txt (in bundle.zip)"]
    assert _hits(runtime, "herring in the canteen", k=1) == ["notes/menu.md (in bundle.zip)"]
    assert _hits(runtime, "lighthouse lamp cleaning", k=1) == ["../../outside.txt (in bundle.zip)"]
    assert _hits(runtime, "harbour crane invoice", k=1) == ["crane.txt (in old/archive.zip (in bundle.zip))"]
    assert not (tmp_path / "outside.txt").exists() and not (folder.parent.parent / "outside.txt").exists()


def test_a_zip_bomb_is_refused_whole_with_the_limit_it_hit(runtime, tmp_path):
    folder = tmp_path / "bomb"
    folder.mkdir()
    write_zip_bomb(folder / "bomb.zip")  # 1 GB of zeros in about a megabyte
    (folder / "fine.txt").write_text(TIMESHEET)

    summary = ingest_paths(runtime.sink, [folder])

    [(path, reason)] = summary.failed
    assert path == folder / "bomb.zip"
    assert "archive_max_mb" in reason and "refused" in reason
    assert runtime.documents.failures()[0].reason == reason
    assert _external_ids(runtime, FILES) == {str(folder / "fine.txt")}  # nothing of the bomb, not even its names


@pytest.mark.parametrize("kind", ["odt", "ods", "odp", "rtf", "epub"])
def test_each_new_format_is_found_by_search(indexed_samples, kind):
    assert _hits(indexed_samples, FORMAT_FACTS[kind][0], k=1) == [f"sample.{kind}"]


@pytest.fixture(scope="module")
def indexed_samples(tmp_path_factory, embedder):
    from tests.conftest import runtime_with, settings_for

    folder = tmp_path_factory.mktemp("samples")
    runtime = runtime_with(settings_for(data_dir=folder / "data"), embedder)
    summary = ingest_paths(runtime.sink, [write_samples(folder / "files")["odt"].parent])
    assert summary.ok, summary.failed
    return runtime


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder, llm):
    running, runtime = start_server(tmp_path_factory.mktemp("uploads"), embedder, llm)
    admin = make_person(runtime, running.url, "boss@example.com", "admin")
    accountant = make_person(runtime, running.url, "fiona@example.com", "employee", ["finance"])
    outsider = make_person(runtime, running.url, "olaf@example.com", "employee")
    yield runtime, admin, accountant, outsider
    running.stop()


def test_an_uploaded_mail_brings_its_attachments_with_the_groups_given(server):
    runtime, admin, accountant, outsider = server
    mail = eml_bytes("Crane invoice", "Invoice attached.", {"invoice.pdf": pdf_bytes(INVOICE)})

    response = admin.client.post("/api/v1/documents", files=[("files", ("crane.eml", mail, "message/rfc822"))],
                                 data={"groups": "finance"})  # fmt: skip

    assert response.status_code == 200 and response.json()[0]["status"] == "added", response.text
    part = "crane.eml#attachment/1-invoice.pdf"
    assert _external_ids(runtime, UPLOADS) == {"crane.eml", part}
    titles = [hit["title"] for hit in accountant.client.get("/api/v1/search", params={"q": "harbour crane"}).json()]
    assert "invoice.pdf (attachment of: Crane invoice)" in titles
    assert outsider.client.get("/api/v1/search", params={"q": "harbour crane"}).json() == []

    deleted = admin.client.delete(f"/api/v1/documents/{document_id(UPLOADS.id, 'crane.eml')}")
    assert deleted.status_code == 204
    assert _external_ids(runtime, UPLOADS) == set()
