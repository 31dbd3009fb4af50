"""enclave search | ask | chat: questions from the terminal, answered from the index."""

from __future__ import annotations

import json
import sys

import typer
from rich.table import Table

from assistant.access import Viewer
from assistant.llm import ChatMessage
from assistant.rag import Answer, Citation, Progress, Token, snippet

from .common import err, out, runtime

K_HELP = "How many chunks to retrieve (default: the top_k setting)."


def search(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "--k", min=1, max=50, help="How many chunks to show."),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON."),
) -> None:
    """Show the chunks that best match QUERY, with their document and score.

    Example: enclave search "parking policy" --k 3
    """
    hits = runtime().assistant.search(query, Viewer.operator(), k)
    if as_json:
        print(json.dumps([Citation(n, h).to_dict() for n, h in enumerate(hits, start=1)], indent=2))
        return
    if not hits:
        out.print("Nothing indexed matches. Add documents with `enclave ingest PATH`.")
        return
    table = Table("#", "score", "title", "source", "snippet", show_lines=True)
    for n, hit in enumerate(hits, start=1):
        table.add_row(str(n), f"{hit.score:.3f}", hit.origin.title, hit.origin.uri, snippet(hit.text))
    out.print(table)


def ask(
    question: str = typer.Argument(..., help="The question."),
    as_json: bool = typer.Option(
        False, "--json", help='Print only {"answer": ..., "sources": [...]} as JSON on stdout.'
    ),
    model: str | None = typer.Option(None, "--model", help="Answer with this model instead of the default."),
    k: int | None = typer.Option(None, "--k", min=1, max=50, help=K_HELP),
) -> None:
    """Answer QUESTION from the indexed documents and list the sources it cites.

    Example: enclave ask "How many vacation days do new employees get?"
    """
    assistant = runtime(model).assistant
    if as_json:
        answer = assistant.answer(question, Viewer.operator(), k=k)
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    _stream(assistant.ask(question, Viewer.operator(), k=k))


def chat(
    model: str | None = typer.Option(None, "--model", help="Answer with this model instead of the default."),
    k: int | None = typer.Option(None, "--k", min=1, max=50, help=K_HELP),
) -> None:
    """Talk with Enclave in the terminal; follow-up questions use the conversation so far.

    Type `exit` or press Ctrl-D to leave.
    """
    assistant = runtime(model).assistant
    history: list[ChatMessage] = []
    err.print("Ask a question about your documents. `exit` or Ctrl-D to leave.")
    while True:
        try:
            question = input("\nYou: ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if question.lower() in {"exit", "quit", ":q"}:
            return
        if not question:
            continue
        sys.stdout.write("Enclave: ")
        answer = _stream(assistant.ask(question, Viewer.operator(), history=history, k=k))
        history += [ChatMessage("user", question), ChatMessage("assistant", answer.text)]


def _stream(events) -> Answer:
    """Show what the answering is doing (on a terminal) until the checked answer arrives, then print it
    and its sources."""
    with out.status("Asking") as status:
        for event in events:
            if isinstance(event, Progress):
                status.update(event.text)
            elif isinstance(event, Token):
                status.stop()
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, Answer):
                print()
                _print_sources(event)
                return event
    raise AssertionError("the answer stream ends with an Answer")


def _print_sources(answer: Answer) -> None:
    if not answer.sources:
        return
    out.print("\nSources:")
    for citation in answer.sources:
        origin = citation.hit.origin
        out.print(f"  [{citation.number}] {origin.title} — {origin.uri}")
