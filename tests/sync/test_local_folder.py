"""The sync engine with the local-folder connector: real files, real index, the engine's guarantees."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from assistant.access import Viewer
from assistant.db.models import Document, IngestFailure, SyncRun, utcnow
from enclave.sources import service
from enclave.sources.sync import SyncAlreadyRunning, SyncEngine


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "share"
    (root / "hr").mkdir(parents=True)
    (root / "hr" / "leave.md").write_text("# Leave\n\nParental leave is 16 weeks at full pay.\n")
    (root / "canteen.txt").write_text("The canteen serves soup on Thursdays.\n")
    (root / "holiday.html").write_text("<h1>Holidays</h1><p>The office closes on 24 December.</p>")
    return root


@pytest.fixture
def runtime(make_runtime):
    return make_runtime(with_llm=False)


def add_folder(runtime, folder, **config):
    return service.create(runtime, "local", "Share", {"path": str(folder), **config})


def documents(runtime, record) -> dict[str, Document]:
    with runtime.sessions() as session:
        rows = session.scalars(select(Document).where(Document.source == record.source_id)).all()
    return {d.title: d for d in rows}


def titles_found(runtime, query: str, viewer=Viewer.operator()) -> list[str]:
    return [h.origin.title for h in runtime.assistant.search(query, viewer, 10)]


def test_full_sync_then_changes_renames_and_deletions(runtime, folder):
    record = add_folder(runtime, folder)
    engine = SyncEngine(runtime)
    first = engine.sync(record.id)
    assert (first.status, first.seen, first.indexed, first.failed) == ("succeeded", 3, 3, 0)
    assert set(documents(runtime, record)) == {"hr/leave.md", "canteen.txt", "holiday.html"}

    (folder / "canteen.txt").write_text("The canteen serves curry on Thursdays.\n")
    (folder / "holiday.html").unlink()
    (folder / "hr" / "leave.md").rename(folder / "hr" / "parental-leave.md")
    second = engine.sync(record.id)
    assert (second.status, second.indexed, second.unchanged, second.deleted) == ("succeeded", 2, 0, 2)
    assert set(documents(runtime, record)) == {"hr/parental-leave.md", "canteen.txt"}
    assert "holiday.html" not in titles_found(runtime, "When does the office close for the holidays?")
    hits = runtime.assistant.search("What does the canteen serve on Thursdays?", Viewer.operator(), 1)
    assert "curry" in hits[0].text

    third = engine.sync(record.id)
    assert (third.indexed, third.unchanged, third.deleted) == (0, 2, 0)


def test_a_bad_file_fails_alone_and_is_retried_once_fixed(runtime, folder):
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    record = add_folder(runtime, folder)
    engine = SyncEngine(runtime)
    run = engine.sync(record.id)
    assert (run.status, run.indexed, run.failed) == ("succeeded", 3, 1)
    assert any("broken.pdf" in line and "pdf" in line for line in run.log)
    with runtime.sessions() as session:
        failure = session.scalar(select(IngestFailure).where(IngestFailure.source == record.source_id))
    assert failure.title == "broken.pdf" and failure.reason

    (folder / "broken.pdf").unlink()  # replaced by a good file under the same name
    (folder / "broken.txt").write_text("Fixed: the report is due on Fridays.\n")
    run = engine.sync(record.id)
    assert run.failed == 0
    with runtime.sessions() as session:
        assert session.scalar(select(IngestFailure).where(IngestFailure.source == record.source_id)) is None


def test_symlinks_leading_outside_the_folder_are_not_followed(runtime, folder, tmp_path):
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "salaries.txt").write_text("Everyone's salary.\n")
    os.symlink(secret, folder / "link-to-outside")
    os.symlink(secret / "salaries.txt", folder / "salaries.txt")
    os.symlink(folder / "canteen.txt", folder / "canteen-link.txt")  # inside: fine
    record = add_folder(runtime, folder)
    SyncEngine(runtime).sync(record.id)
    titles = set(documents(runtime, record))
    assert "salaries.txt" not in titles and not any("link-to-outside" in t for t in titles)
    assert "canteen-link.txt" in titles


def test_the_folders_groups_become_each_documents_acl(runtime, folder):
    record = add_folder(runtime, folder, groups=["HR"])
    SyncEngine(runtime).sync(record.id)
    assert all(d.access == {"public": False, "users": [], "groups": ["hr"]} for d in documents(runtime, record).values())
    query = "How long is parental leave?"
    assert "hr/leave.md" in titles_found(runtime, query, Viewer("kim@example.com", frozenset({"hr"})))
    assert titles_found(runtime, query, Viewer("joe@example.com", frozenset({"sales"}))) == []


def test_a_missing_folder_fails_the_run_with_a_clear_error(runtime, folder, tmp_path):
    record = add_folder(runtime, tmp_path / "not-there")
    run = SyncEngine(runtime).sync(record.id)
    assert run.status == "failed" and "does not exist" in run.error
    with runtime.sessions() as session:
        assert service.describe(session, session.get(type(record), record.id), runtime.documents)["state"] == "error"


def test_two_syncs_of_one_connector_never_run_at_once(runtime, folder):
    record = add_folder(runtime, folder)
    engine = SyncEngine(runtime)
    seen_inside = []

    def try_again(progress) -> None:
        if progress.seen == 1 and not seen_inside:
            with pytest.raises(SyncAlreadyRunning):
                engine.sync(record.id)
            seen_inside.append(True)

    assert engine.sync(record.id, on_progress=try_again).status == "succeeded"
    assert seen_inside == [True]
    assert engine.sync(record.id).status == "succeeded"  # the claim was released


def test_a_run_left_running_by_a_dead_process_is_closed_and_the_claim_taken_over(runtime, folder):
    record = add_folder(runtime, folder)
    with runtime.sessions() as session:
        stuck = session.get(type(record), record.id)
        stuck.sync_owner = f"{os.uname().nodename}:999999:1"  # no such process
        stuck.sync_lease_until = utcnow() + timedelta(hours=1)
        session.add(SyncRun(connector_id=record.id, status="running"))
        session.commit()
    run = SyncEngine(runtime).sync(record.id)
    assert run.status == "succeeded"
    with runtime.sessions() as session:
        runs = session.scalars(select(SyncRun).where(SyncRun.connector_id == record.id).order_by(SyncRun.id)).all()
    assert [r.status for r in runs] == ["failed", "succeeded"] and "interrupted" in runs[0].error
