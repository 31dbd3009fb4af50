"""Two cores shared fairly: time to first token while a 1,000-page ingest runs, against the same questions on
an idle box, in the same run; with questions first (``assistant/priority.py``) and, as the reference, with
that priority switched off. Then the same with the ingest in another process (``enclave ingest``, as a worker
process would run it beside a web process on the same cores), with the priority shared through the worker's
answering lock file and, as the reference, with this process not sharing it.

The ingest is 1,000 pages of SQuAD v1.1 dev paragraphs (../shared/datasets), indexed through the ingestion
sink in a background thread, as an upload or a sync would be, or as files by the other process; the
questions are the sample questions over samples/. Goal: p50 time to first token during the ingest at most 1.3
times the idle one, in one process and across two.

    .venv/bin/python -m benchmarks.fairness [--questions 8] [--pages 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence

from assistant import priority
from assistant.access import Viewer
from assistant.config import Settings
from assistant.rag import Token
from enclave.runtime import ANSWERING_LOCK, Runtime
from ingest.documents import SourceDocument
from ingest.index import Source

from . import environment, report
from .query import QUESTIONS

SQUAD = environment.REPO.parent / "shared" / "datasets" / "squad-v1.1-dev"
TARGET_RATIO = 1.3
VIEWER = Viewer(email="bench@enclave.local")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=8, help="Sample questions asked in each phase.")
    parser.add_argument("--pages", type=int, default=1000, help="Pages (SQuAD paragraphs) the background ingest indexes.")
    args = parser.parse_args(argv)

    data_dir = environment.fresh_dir("fairness")
    environment.enclave(data_dir, "ingest", str(environment.SAMPLES))
    environment.isolate(data_dir)
    runtime = Runtime(Settings(temperature=0.0))
    runtime.llm()
    runtime.assistant.search("warm-up", VIEWER)
    questions = [q["question"] for q in json.loads(QUESTIONS.read_text())][: args.questions]
    pages = squad_pages(args.pages)

    report.progress("idle")
    idle = [first_token(runtime, q) for q in questions]
    phases = {"idle": idle}
    for name, max_pause in (("during ingest, questions first", priority.MAX_PAUSE_SECONDS), ("during ingest, no priority", 0.0)):
        report.progress(name)
        priority.PRIORITY.max_pause = max_pause
        phases[name] = during_ingest(runtime, questions, pages, name)
    priority.PRIORITY.max_pause = priority.MAX_PAUSE_SECONDS
    for name, shared in ((ELSEWHERE_FIRST, True), (ELSEWHERE_NO_PRIORITY, False)):
        report.progress(name)
        # The worker indexes into a data directory of its own (an embedded index is one process's), and this
        # process shares its answering lock, or, as the reference, does not.
        worker_dir = environment.fresh_dir(f"fairness-worker-{int(shared)}")
        priority.PRIORITY.share(worker_dir / ANSWERING_LOCK if shared else None)
        phases[name] = during_ingest_elsewhere(runtime, questions, pages, worker_dir, name)
    write_results(phases, args.pages)


ELSEWHERE_FIRST = "during ingest in another process, questions first"
ELSEWHERE_NO_PRIORITY = "during ingest in another process, no priority"


def squad_pages(count: int) -> list[str]:
    paragraphs = [p["context"] for f in sorted(SQUAD.glob("*.json")) for a in json.loads(f.read_text())["data"]
                  for p in a["paragraphs"]]  # fmt: skip
    return paragraphs[:count]


def first_token(runtime: Runtime, question: str) -> float | None:
    started = time.perf_counter()
    for event in runtime.assistant.ask(question, VIEWER):
        if isinstance(event, Token):
            return time.perf_counter() - started
    return None


def during_ingest(runtime: Runtime, questions: list[str], pages: list[str], phase: str) -> list[float | None]:
    source = Source(f"bench-{len(phase)}", "upload")
    items = (SourceDocument(external_id=f"page-{n}", title=f"Page {n}", uri=f"bench:{n}", content=text.encode(),
                            filename=f"page-{n}.txt") for n, text in enumerate(pages))  # fmt: skip
    ingesting = threading.Thread(target=lambda: list(runtime.sink.index_many(source, items)), daemon=True)
    ingesting.start()
    time.sleep(2)  # the ingest is under way before the first question
    timings = [first_token(runtime, q) for q in questions if ingesting.is_alive()]
    ingesting.join()
    return timings


def during_ingest_elsewhere(runtime: Runtime, questions: list[str], pages: list[str], worker_dir, phase: str) -> list:
    folder = worker_dir / "pages"
    folder.mkdir()
    for n, text in enumerate(pages):
        (folder / f"page-{n}.txt").write_text(text)
    worker = subprocess.Popen([str(environment.ENCLAVE), "ingest", str(folder)],
                              env=environment.enclave_environment(worker_dir), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(15)  # the other process has loaded its embedding model and is embedding before the first question
    timings = [first_token(runtime, q) for q in questions if worker.poll() is None]
    if worker.wait() != 0:
        raise SystemExit(f"enclave ingest failed in phase {phase!r}")
    return timings


def write_results(phases: dict[str, list[float | None]], pages: int) -> None:
    p50 = {name: statistics.median([t for t in times if t is not None]) for name, times in phases.items()}
    rows = [[name, len(times), p50[name], p50[name] / p50["idle"]] for name, times in phases.items()]
    ratio = p50["during ingest, questions first"] / p50["idle"]
    across = p50[ELSEWHERE_FIRST] / p50["idle"]
    report.write(
        "fairness",
        f"Fairness: time to first token while {pages} pages are ingested",
        {"p50_first_token_s": p50, "timings_s": phases, "target_ratio": TARGET_RATIO},
        report.table(["phase", "questions", "p50 first token (s)", "× idle"], rows),
        [f"Goal: at most {TARGET_RATIO}× idle with questions first: {report.verdict(ratio <= TARGET_RATIO)} "
         f"({ratio:.2f}×) in one process, {report.verdict(across <= TARGET_RATIO)} ({across:.2f}×) with the ingest "
         "in another."],
    )


if __name__ == "__main__":
    main()
