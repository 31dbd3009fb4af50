"""Properties of the parsers and the chunker, over inputs Hypothesis makes up.

Whatever bytes arrive under whatever name, parsing either gives text or refuses with a reason an admin can
act on (``ParseError``), never another exception; text that goes in as a text file comes out whole; and the
chunker keeps every word, stays within its size, and keeps each chunk's page and heading.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunk import split
from ingest.parse import ParseError, Section, parse

SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = st.sampled_from(["a.txt", "b.md", "c.html", "d.csv", "e.pdf", "f.docx", "g.xlsx", "h.pptx", "i.eml", "j.log"])
WORDS = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=12)
PARAGRAPHS = st.lists(st.lists(WORDS, min_size=1, max_size=40).map(" ".join), min_size=1, max_size=8).map("\n\n".join)


@SLOW
@given(content=st.binary(max_size=4096), name=NAMES)
def test_any_bytes_are_read_or_refused_with_a_reason(content, name):
    try:
        sections = parse(content, name)
    except ParseError as refusal:
        assert str(refusal).strip()
    else:
        assert sections and all(s.text.strip() for s in sections)


@SLOW
@given(text=PARAGRAPHS)
def test_a_text_file_comes_out_whole(text):
    sections = parse(text.encode(), "notes.txt")
    assert _words(" ".join(s.text for s in sections)) == _words(text)


@settings(max_examples=150, deadline=None)
@given(
    sections=st.lists(
        st.builds(Section, text=PARAGRAPHS, page=st.none() | st.integers(1, 500), heading=st.text(max_size=30)),
        min_size=1,
        max_size=5,
    ),
    size=st.integers(40, 1200),
    overlap=st.integers(0, 300),
)
def test_chunks_keep_every_word_stay_in_size_and_know_their_page(sections, size, overlap):
    chunks = split(sections, size, overlap)
    for section in sections:
        own = [c for c in chunks if c.page == section.page and c.heading == section.heading]
        assert _words(section.text) <= _words(" ".join(c.text for c in own))
    for chunk in chunks:
        assert chunk.text.strip() and len(chunk.text) <= size
        assert any(chunk.text in s.text and (s.page, s.heading) == (chunk.page, chunk.heading) for s in sections)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


@pytest.mark.parametrize("name", ["bomb.docx", "bomb.xlsx"])
def test_an_office_file_that_is_a_bad_zip_is_refused(name):
    with pytest.raises(ParseError):
        parse(b"PK\x03\x04" + b"\x00" * 200, name)
