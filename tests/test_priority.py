"""Questions first: background embedding waits while a question is being answered (and only that long), also
in another process of the same appliance, and scheduled syncs start only within ``background_hours``."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.config import Settings
from assistant.priority import Priority
from assistant.store import ChunkOrigin
from enclave.sources.scheduler import within_hours
from ingest.index import EMBED_BATCH, Indexer


class Recording:
    """The real embedder, noting whether a question was being answered when each batch began."""

    def __init__(self, embedder, priority: Priority):
        self.embedder, self.priority, self.batches = embedder, priority, []

    def embed_documents(self, texts):
        self.batches.append(self.priority.answering)
        return self.embedder.embed_documents(texts)


def test_background_embedding_waits_for_the_answer_in_progress(embedder, monkeypatch):
    priority = Priority()
    monkeypatch.setattr("ingest.index.PRIORITY", priority)
    recording = Recording(embedder, priority)
    indexer = Indexer(recording, store=None, keywords=None, chunk_size=200, chunk_overlap=0)
    chunks = indexer.read(ChunkOrigin("d1", "manual", "file:///m", "files", "local"),
                          "\n\n".join(f"Step {n}: tighten bolt {n} to spec." * 4 for n in range(3 * EMBED_BATCH)),
                          "manual.txt", None).chunks  # fmt: skip
    finished = threading.Event()
    with priority.interactive():
        worker = threading.Thread(target=lambda: (indexer.embedded(chunks), finished.set()))
        worker.start()
        assert not finished.wait(timeout=2)  # held back while the question is answered
        assert recording.batches == []
    worker.join(timeout=120)
    assert finished.is_set() and len(recording.batches) >= 3 and set(recording.batches) == {0}


def test_a_steady_stream_of_questions_slows_background_work_but_never_stops_it():
    priority = Priority(max_pause=0.1)
    with priority.interactive():
        assert priority.background_turn() is False  # gave up waiting: the batch goes ahead
    assert priority.background_turn() is True


# Another process (a web replica) answering a question until told to stop.
ANSWERING_ELSEWHERE = """
import sys
from pathlib import Path
from assistant.priority import Priority
priority = Priority()
priority.share(Path(sys.argv[1]))
with priority.interactive():
    print("answering", flush=True)
    sys.stdin.readline()
"""


def test_background_embedding_waits_for_an_answer_in_another_process_sharing_the_lock(tmp_path):
    lock_file = tmp_path / "answering.lock"
    web = subprocess.Popen([sys.executable, "-c", ANSWERING_ELSEWHERE, str(lock_file)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])  # fmt: skip
    assert web.stdout.readline().strip() == "answering"
    worker = Priority()
    worker.share(lock_file)
    unshared = Priority()  # a process of another appliance: it does not wait
    assert unshared.background_turn() is True
    turns = []
    waiting = threading.Thread(target=lambda: turns.append(worker.background_turn()))
    waiting.start()
    waiting.join(timeout=1)
    assert waiting.is_alive() and turns == []  # held back while the other process answers
    web.communicate("done\n", timeout=30)
    waiting.join(timeout=30)
    assert turns == [True]


def test_a_lock_file_that_cannot_be_made_leaves_the_priority_within_the_process(tmp_path):
    priority = Priority(max_pause=0.1)
    priority.share(tmp_path / "missing" / "answering.lock")
    with priority.interactive():
        assert priority.background_turn() is False
    assert priority.background_turn() is True


@pytest.mark.parametrize(
    "hours, inside, outside",
    [(None, [0, 12, 23], []), ("19-7", [19, 23, 0, 6], [7, 12, 18]), ("9-17", [9, 16], [8, 17, 23])],
)
def test_scheduled_syncs_start_only_within_background_hours(hours, inside, outside):
    assert all(within_hours(hours, h) for h in inside) and not any(within_hours(hours, h) for h in outside)


def test_background_hours_are_checked_when_set():
    assert Settings(background_hours="19-7").background_hours == "19-7"
    with pytest.raises(ValidationError):
        Settings(background_hours="evenings")
