"""enclave replay MESSAGE_ID: answer a stored answer's question again, and say whether it comes out the same."""

from __future__ import annotations

import json

import typer

from assistant.db.models import Message
from assistant.errors import NotFoundError

from .common import err, out, runtime


def replay(
    message_id: str = typer.Argument(..., help="The id of a stored answer (`message_id` in the API)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored and the new answer as JSON."),
) -> None:
    """Answer a stored answer's question again with the same model, chunks and settings, and say whether the
    result is the same. Exits 0 when it is, 1 when it is not.

    Example: enclave replay 6f1c2a9e-0b7d-4c1e-9a57-3f2d8e4b1c60
    """
    stored = _stored_answer(message_id)
    provenance = stored.provenance
    model = provenance["model"]["name"] if provenance.get("model") else None
    current = runtime(model)
    again = current.assistant.replay(provenance)
    same_text = again.text == stored.content
    same_sources = [s.to_dict()["chunk_id"] for s in again.sources] == [s["chunk_id"] for s in stored.sources]
    notes = _differences(provenance, again.provenance, len(again.provenance["retrieved"]))
    if as_json:
        print(json.dumps({"same": same_text and same_sources, "stored": stored.content, "replayed": again.text,
                          "notes": notes}, ensure_ascii=False))  # fmt: skip
    else:
        out.print(f"Stored:   {stored.content}\nReplayed: {again.text}")
        for note in notes:
            err.print(f"Note: {note}")
        out.print("Same answer and sources." if same_text and same_sources else "Different.")
    raise typer.Exit(0 if same_text and same_sources else 1)


def _stored_answer(message_id: str) -> Message:
    with runtime().sessions() as session:
        message = session.get(Message, message_id)
        if message is None or message.role != "assistant":
            raise NotFoundError(f"no stored answer with id {message_id}")
        if not message.provenance:
            raise NotFoundError(f"answer {message_id} was stored before answers recorded their provenance")
        session.expunge(message)
        return message


def _differences(stored: dict, replayed: dict, chunks_found: int) -> list[str]:
    notes = []
    if chunks_found < len(stored["retrieved"]):
        notes.append(f"{len(stored['retrieved']) - chunks_found} of the chunks it was answered from are no longer indexed")
    if stored.get("model") and replayed.get("model") and stored["model"]["sha256"] != replayed["model"]["sha256"]:
        notes.append("the model file is not the one it was answered with (sha256 differs)")
    if stored["prompt_version"] != replayed["prompt_version"]:
        notes.append(f"the prompts changed ({stored['prompt_version']} then, {replayed['prompt_version']} now)")
    return notes
