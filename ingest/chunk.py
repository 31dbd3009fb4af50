"""Split parsed sections into overlapping chunks small enough to embed and cite."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .parse import Section


@dataclass(frozen=True)
class TextChunk:
    text: str
    page: int | None = None
    heading: str = ""


def split(sections: list[Section], chunk_size: int, chunk_overlap: int) -> list[TextChunk]:
    """Each section split on its own, so no chunk straddles two sections and each keeps its heading."""
    # Paragraphs first, then lines, then words: a chunk breaks where the text does.
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2), strip_whitespace=True
    )
    return [
        TextChunk(text=piece, page=section.page, heading=section.heading)
        for section in sections
        for piece in splitter.split_text(section.text)
        if piece.strip()
    ]
