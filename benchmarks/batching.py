"""Batching: the in-process model (one llama.cpp context, one answer at a time) against llama.cpp's
llama-server with parallel slots (continuous batching: the slots' tokens are decoded together).

The same questions, each with Enclave's answering prompt (the rules, three evidence sentences and the
question: about 200 tokens; ``--prompt-shape passages``: three whole passages, about 600 tokens, the prompt
Enclave sent before it answered from evidence sentences), are sent by N users at once (default 16, each
asking one after another), through Enclave's own LLM backends:
``LlamaCppLLM`` in this process, and ``OpenAIServerLLM`` against ``llama-server --parallel S`` for each S
(default 1, 2 and 4; started here, with the same model and threads and a context of S x 2048 tokens, so each
slot has the window the in-process model has). Users beyond the slots wait in the server's queue, as they
wait in Enclave's own queue for the in-process model.

    LLAMA_SERVER=/path/to/llama-server .venv/bin/python -m benchmarks.batching [--users 16] [--slots 1 2 4]
        [--prompt-shape sentences|passages]

llama-server is not on PyPI or in Debian; build it from the llama.cpp sources inside llama-cpp-python's
source distribution, with the Makefile's ``LLAMA_CMAKE_ARGS`` (a native build may use instructions a virtual
machine lists but cannot run): ``cmake -B build $LLAMA_CMAKE_ARGS && cmake --build build --target
llama-server``; or take it from the ``ghcr.io/ggml-org/llama.cpp:server`` image. Without LLAMA_SERVER only
the in-process row is measured, and the table says so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from assistant import prompts
from assistant.catalog import active_model
from assistant.config import DEFAULT_MODEL, Settings
from assistant.llm import LLM, ChatMessage, GenerationOptions
from enclave.evaluation.metrics import percentile

from . import environment, report

SLOT_CONTEXT = 2048
ANSWER_TOKENS = 64
PASSAGE = (
    "Section {n}. Employees of the {site} site may work from home on up to {days} days a week, agreed with their "
    "manager. Equipment for home offices is ordered through the service desk; a monitor, a keyboard and a "
    "headset are provided. Travel between home and the office is not paid. Meetings with customers are held "
    "at the office. The canteen opens at {hour}:30 and serves a vegetarian dish every day. "
)
SITES = ("Lisbon", "Porto", "Hamburg", "Lyon", "Turin", "Ghent", "Aarhus", "Graz")


PROMPT_SHAPES = ("sentences", "passages")


def questions(count: int, shape: str = "sentences") -> list[list[ChatMessage]]:
    """``count`` distinct answering prompts (no two share their passages or sentences, so no cache helps one of
    them beyond the rules every prompt starts with)."""
    asked = []
    for i in range(count):
        site = SITES[i % len(SITES)]
        question = f"How many days a week may {site} employees work from home?"
        filled = [PASSAGE.format(n=i * 3 + k, site=site, days=(i + k) % 4 + 1, hour=11 + k) for k in (1, 2, 3)]
        if shape == "sentences":  # each passage's second sentence, the one about working from home
            asked.append(prompts.answer_messages(question, [f"{text.split('. ', 2)[1]} (section {i * 3 + k})."
                                                            for k, text in enumerate(filled, start=1)]))
            continue
        passages = "\n\n".join(f"[{k}] " + text * 2 for k, text in enumerate(filled, start=1))
        asked.append([
            ChatMessage("system", "Answer in one sentence from the numbered passages only, citing one as [n]."),
            ChatMessage("user", f"{passages}\n\nQuestion: {question}"),
        ])  # fmt: skip
    return asked


def run_callers(llm: LLM, prompts: list[list[ChatMessage]], callers: int) -> dict:
    """Every prompt answered by ``callers`` threads at once; throughput and latency."""
    assert callers <= len(prompts), "every caller asks at least one question"
    options = GenerationOptions(max_tokens=ANSWER_TOKENS, temperature=0.0)

    def answer(prompt: list[ChatMessage]) -> tuple[float, float, int]:
        started = time.perf_counter()
        first, pieces = None, 0
        for _piece in llm.stream(prompt, options):
            first = first or time.perf_counter() - started
            pieces += 1
        return first or 0.0, time.perf_counter() - started, pieces

    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        results = list(pool.map(answer, prompts))
    elapsed = time.perf_counter() - started
    return {
        "callers": callers,
        "answers": len(results),
        "elapsed_s": elapsed,
        "answers_per_minute": len(results) * 60 / elapsed,
        "pieces_per_second": sum(r[2] for r in results) / elapsed,
        "first_piece_p50_s": statistics.median(r[0] for r in results),
        "first_piece_p95_s": percentile([r[0] for r in results], 95),
        "answer_p50_s": statistics.median(r[1] for r in results),
    }


class LlamaServer:
    """``llama-server`` on a free port with ``slots`` parallel slots."""

    def __init__(self, binary: Path, model: Path, slots: int, threads: int, log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        command = [str(binary), "--model", str(model), "--alias", DEFAULT_MODEL, "--host", "127.0.0.1",
                   "--port", str(self.port), "--parallel", str(slots), "--ctx-size", str(SLOT_CONTEXT * slots),
                   "--threads", str(threads), "--threads-batch", str(threads)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"llama-server did not start; see {log}")
            time.sleep(0.5)

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.url.removesuffix("/v1") + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(name: str, build: Callable[[], LLM], prompts_per_caller: int, callers: int, shape: str) -> dict:
    report.progress(f"{name}: {callers} user(s)")
    llm = build()
    run_callers(llm, questions(1, shape), 1)  # warm up: the first call loads or compiles what it needs
    row = run_callers(llm, questions(prompts_per_caller * callers, shape), callers)
    return {"backend": name, **row}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=16, help="Users asking at once.")
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 2, 4], help="llama-server's slots, one row each.")
    parser.add_argument("--per-user", type=int, default=1, help="Questions each user asks, one after another.")
    parser.add_argument("--prompt-shape", choices=PROMPT_SHAPES, default="sentences",
                        help="Today's answering prompt (evidence sentences) or the earlier one (whole passages).")
    args = parser.parse_args(argv)
    environment.isolate(environment.fresh_dir("batching"))
    settings = Settings()
    model = active_model(settings, DEFAULT_MODEL)
    threads = settings.threads
    binary = Path(os.environ["LLAMA_SERVER"]) if os.environ.get("LLAMA_SERVER") else None

    from assistant.llm.llamacpp import LlamaCppLLM

    in_process = LlamaCppLLM(model.path, model.name, SLOT_CONTEXT, threads, settings.batch_size)
    rows = [measure("in-process (one context)", lambda llm=in_process: llm, args.per_user, args.users, args.prompt_shape)]
    del in_process
    if binary:
        from assistant.llm.openai_server import OpenAIServerLLM

        for slots in args.slots:
            server = LlamaServer(binary, model.path, slots, threads, environment.SCRATCH / "batching" / "server.log")
            try:
                rows.append(measure(f"llama-server --parallel {slots}",
                                    lambda url=server.url: OpenAIServerLLM([url], None, None, SLOT_CONTEXT),
                                    args.per_user, args.users, args.prompt_shape))  # fmt: skip
            finally:
                server.stop()
    write_results(rows, model.name, threads, binary, args.prompt_shape)


def write_results(rows: list[dict], model: str, threads: int, binary: Path | None, shape: str) -> None:
    table = report.table(
        ("backend", "users at once", "answers / min", "tokens / s", "first token p50 (s)", "first token p95 (s)",
         "answer p50 (s)"),
        [(r["backend"], r["callers"], r["answers_per_minute"], r["pieces_per_second"], r["first_piece_p50_s"],
          r["first_piece_p95_s"], r["answer_p50_s"]) for r in rows],
    )  # fmt: skip
    notes = [
        f"{model}, {threads} threads, greedy, answers of at most {ANSWER_TOKENS} tokens to "
        + ("Enclave's answering prompts (rules, three evidence sentences and a question, about 200 tokens)"
           if shape == "sentences" else "prompts of about 600 tokens (three whole passages and a question)")
        + ", each prompt different; all users ask at once, each its questions "
        "one after another; one warm-up question before each row. First token is timed from the user's request, "
        "so it includes the wait in the queue.",
        "Tokens / s counts the streamed pieces (one token each) of all answers over the row's wall-clock time.",
    ]
    if binary is None:
        notes.append("llama-server was not measured: set LLAMA_SERVER to its binary (it is not on PyPI or in Debian).")
    report.write("batching" if shape == "sentences" else "batching-passages",
                 "Batching: one context in-process vs llama-server's parallel slots"
                 + ("" if shape == "sentences" else ", whole passages"),
                 {"model": model, "threads": threads, "llama_server": str(binary) if binary else None,
                  "prompt_shape": shape, "rows": rows},
                 table, notes)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
