"""What a person may see of their stored conversations now, which may be less than when they asked.

An answer was made from documents its asker could read then. If they may no longer read one of them (they
left a group, their groups are too old to trust, the document is gone), the answer, its citations and how it
was made are withheld on reading, and it is left out of the history a new question is asked with.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.access import Viewer
from assistant.db.models import Message
from enclave.documents import DocumentsRepository

WITHHELD_ANSWER = "This answer is hidden: it was made from documents you may not read now."


def documents_behind(message: Message) -> set[str]:
    """Every document an answer rests on: those it cites and those its evidence was read from."""
    cited = {source.get("id") for source in message.sources or []}
    read = {hit.get("document_id") for hit in (message.provenance or {}).get("retrieved", [])}
    return (cited | read) - {None}


def withheld_answers(messages: Iterable[Message], viewer: Viewer, documents: DocumentsRepository) -> set[str]:
    """The ids of the answers among ``messages`` that rest on a document ``viewer`` may not read now."""
    if viewer.sees_everything:
        return set()
    behind = {m.id: documents_behind(m) for m in messages if m.role == "assistant"}
    readable = documents.readable(set().union(*behind.values()), viewer)
    return {message_id for message_id, ids in behind.items() if ids - readable}
