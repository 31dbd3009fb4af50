"""Query path: Enclave's time to first token against llama-cpp-python called directly.

The samples/ corpus is ingested into a scratch data dir; each question is asked
in-process (``Runtime(...).assistant.ask``), and the exact messages Enclave
built are then sent to a plain ``Llama`` loaded from the same file with the same
threads, context and batch sizes. The difference is what retrieval, embedding
the question and building the prompt cost. A second part shows the system-prompt
state kept by ``assistant/llm/llamacpp.py``: an answer right after a follow-up
rewrite, with and without it.

    .venv/bin/python -m benchmarks.query [--questions 20] [--cache-questions 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant import prompts
from assistant.access import Viewer
from assistant.catalog import active_model
from assistant.config import Settings
from assistant.llm import LLM, ChatMessage, GenerationOptions
from assistant.rag import Answer, Token
from enclave.runtime import Runtime

from . import environment, report

QUESTIONS = Path(__file__).resolve().parent / "data" / "sample_questions.json"
TARGET_TTFT_RATIO = 1.15
# The follow-up whose rewrite runs between two answers in the cache part.
FOLLOW_UP = "And who do I ask about it?"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=20, help="How many of the sample questions to ask.")
    parser.add_argument(
        "--cache-questions", type=int, default=10, help="How many of them to use for the cold/warm prefix comparison."
    )
    args = parser.parse_args(argv)

    data_dir = environment.fresh_dir("query")
    environment.enclave(data_dir, "ingest", str(environment.SAMPLES))
    environment.isolate(data_dir)
    questions = [q["question"] for q in json.loads(QUESTIONS.read_text())][: args.questions]

    # Greedy decoding on both sides: the same answers, so total times compare like for like.
    settings = Settings(temperature=0.0)
    runtime = RecordingRuntime(settings)
    # Loading the model and the embedder, and Chroma's first query, happen before any clock starts.
    runtime.llm()
    runtime.assistant.search("warm-up", Viewer(email="bench@enclave.local"))
    raw = raw_llama(settings)
    asked = []
    for number, question in enumerate(questions, start=1):
        report.progress(f"question {number}/{len(questions)}: {question}")
        asked.append(ask_both(runtime, raw, question))
    cache = []
    for number, a in enumerate([a for a in asked if a["messages"]][: args.cache_questions], start=1):
        report.progress(f"prefix cache {number}/{args.cache_questions}")
        cache.append(prefix_cache(runtime, raw, a["messages"]))
    write_results(settings, asked, cache)


def raw_llama(settings: Settings):
    from llama_cpp import Llama

    return Llama(
        model_path=str(active_model(settings).path),
        n_ctx=settings.context_size,
        n_threads=settings.threads,
        n_threads_batch=settings.threads,
        n_batch=settings.batch_size,
        verbose=False,
    )


class RecordingLLM(LLM):
    """Enclave's LLM, remembering the messages of its latest generation."""

    def __init__(self, llm: LLM):
        self.enclave_llm = llm
        self.name, self.context_size = llm.name, llm.context_size
        self.messages: list[ChatMessage] = []

    def _stream(self, messages, options) -> Iterator[str]:
        self.messages = list(messages)
        return self.enclave_llm.stream(messages, options)

    def count_tokens(self, text: str) -> int:
        return self.enclave_llm.count_tokens(text)


class RecordingRuntime(Runtime):
    """The real runtime, its LLM wrapped so the benchmark sees the final messages."""

    _recording: RecordingLLM | None = None

    def llm(self) -> RecordingLLM:
        if self._recording is None:
            self._recording = RecordingLLM(super().llm())
        return self._recording


def ask_both(runtime: RecordingRuntime, raw, question: str) -> dict:
    viewer = Viewer(email="bench@enclave.local")
    started = time.perf_counter()
    first = None
    recorder = runtime.llm()
    recorder.messages = []
    for event in runtime.assistant.ask(question, viewer):
        if isinstance(event, Token) and first is None:
            first = time.perf_counter() - started
        if isinstance(event, Answer):
            answer = event
    total = time.perf_counter() - started
    messages = [{"role": m.role, "content": m.content} for m in recorder.messages]
    result = {"question": question, "enclave_ttft_s": first, "enclave_total_s": total, "messages": messages}
    result["found_nothing"] = answer.found_nothing
    if messages:  # Enclave called the model: send the same messages to the raw one
        result["raw_ttft_s"], result["raw_total_s"] = raw_chat(raw, messages, runtime.settings.max_answer_tokens)
        result["prompt_tokens"] = len(recorder.enclave_llm.prefix_states.tokens(recorder.messages))
    return result


def raw_chat(raw, messages: list[dict], max_tokens: int, temperature: float = 0.0) -> tuple[float, float]:
    """Time to the first piece of text, and to the end, of a plain llama-cpp-python chat completion."""
    started = time.perf_counter()
    first = None
    for chunk in raw.create_chat_completion(
        messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True
    ):
        if first is None and chunk["choices"][0]["delta"].get("content"):
            first = time.perf_counter() - started
    return first, time.perf_counter() - started


def prefix_cache(runtime: RecordingRuntime, raw, messages: list[dict]) -> dict:
    """An answer prompt evaluated cold, and again right after the follow-up rewrite ran in between:
    with Enclave's saved system prefix, and with plain llama-cpp-python."""
    question = messages[-1]["content"].rsplit("Question: ", 1)[-1].removesuffix("\nAnswer:")
    rewrite = prompts.condense_messages(FOLLOW_UP, [ChatMessage("user", question)])
    answer = [ChatMessage(m["role"], m["content"]) for m in messages]
    first_token = GenerationOptions(max_tokens=1, temperature=0.0)

    raw.reset()
    cold, _ = raw_chat(raw, messages, 1)
    raw_chat(raw, [{"role": m.role, "content": m.content} for m in rewrite], 16)
    raw_after_rewrite, _ = raw_chat(raw, messages, 1)

    llm = runtime.llm().enclave_llm
    llm.complete(rewrite, GenerationOptions(max_tokens=16, temperature=0.0))
    started = time.perf_counter()
    llm.complete(answer, first_token)  # one token: its time is the time to the first token
    enclave_after_rewrite = time.perf_counter() - started
    return {
        "cold_s": cold,
        "raw_after_rewrite_s": raw_after_rewrite,
        "enclave_after_rewrite_s": enclave_after_rewrite,
        "prefix_tokens": len(llm.prefix_states.system_prefix(answer)),
    }


def write_results(settings: Settings, asked: list[dict], cache: list[dict]) -> None:
    answered = [a for a in asked if a["messages"]]
    enclave_ttft = [a["enclave_ttft_s"] for a in answered]
    raw_ttft = [a["raw_ttft_s"] for a in answered]
    ratio = sum(enclave_ttft) / sum(raw_ttft)
    per_question = [a["enclave_ttft_s"] / a["raw_ttft_s"] for a in answered]
    rows = [
        ("time to first token, mean (s)", statistics.mean(enclave_ttft), statistics.mean(raw_ttft),
         f"{ratio:.2f}×", f"≤ {TARGET_TTFT_RATIO}× ({report.verdict(ratio <= TARGET_TTFT_RATIO)})"),
        ("time to first token, median (s)", statistics.median(enclave_ttft), statistics.median(raw_ttft),
         f"{statistics.median(per_question):.2f}× (median per question)", ""),
        ("total time, mean (s)", statistics.mean(a["enclave_total_s"] for a in answered),
         statistics.mean(a["raw_total_s"] for a in answered),
         f"{sum(a['enclave_total_s'] for a in answered) / sum(a['raw_total_s'] for a in answered):.2f}×", ""),
    ]
    table = report.table(("Query path", "Enclave", "raw llama-cpp-python", "ratio", "target"), rows)
    if cache:
        cold = statistics.mean(c["cold_s"] for c in cache)
        plain = statistics.mean(c["raw_after_rewrite_s"] for c in cache)
        kept = statistics.mean(c["enclave_after_rewrite_s"] for c in cache)
        table += "\n\n" + report.table(
            ("Answer prompt, time to first token (mean s)", "seconds", "vs cold"),
            [
                ("cold: nothing evaluated yet", cold, "1.00×"),
                ("after the follow-up rewrite, plain llama-cpp-python", plain, f"{plain / cold:.2f}×"),
                ("after the follow-up rewrite, Enclave (system prefix restored)", kept, f"{kept / cold:.2f}×"),
            ],
        )
    notes = [
        f"{len(answered)} of {len(asked)} questions about samples/ reached the model "
        f"(prompts of {statistics.mean(a['prompt_tokens'] for a in answered):.0f} tokens on average); "
        f"model {settings.model or 'default'}, {settings.threads} threads, n_ctx {settings.context_size}, "
        f"n_batch {settings.batch_size}, greedy decoding on both sides.",
        "Enclave: in-process `Runtime(...).assistant.ask(...)`, first Token event; raw: `Llama.create_chat_completion` "
        "with the exact messages Enclave built, first chunk with text. Both contexts had answered the previous "
        "question, so both reuse the prompt prefix they share with it.",
    ]
    if cache:
        notes.append(
            f"Prefix part: {len(cache)} answer prompts, time to the first token; the system prefix is "
            f"{cache[0]['prefix_tokens']} tokens."
        )
    report.write(
        "query",
        "Query path: Enclave vs llama-cpp-python",
        {"settings": {"threads": settings.threads, "context_size": settings.context_size,
                      "batch_size": settings.batch_size, "max_answer_tokens": settings.max_answer_tokens},
         "ttft_ratio": ratio, "target_ttft_ratio": TARGET_TTFT_RATIO, "questions": asked, "prefix_cache": cache},
        table,
        notes,
    )


if __name__ == "__main__":
    main()
