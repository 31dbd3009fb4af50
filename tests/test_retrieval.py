"""Retrieval: codes and names embeddings blur are found literally, within the asker's
permissions, and merged with the vector ranking; follow-ups are searched in their context."""

from __future__ import annotations

import pytest

from assistant.access import Access, Viewer
from assistant.llm import ChatMessage
from assistant.retrieval import distinctive_terms, fuse, with_context
from assistant.store import ChunkOrigin, Hit
from connectors.models import SourceDocument
from ingest.index import Source

PARTS = Source("parts", "local")


@pytest.mark.parametrize(
    "query,terms",
    [
        ("What does the VB-900 cost?", ["VB-900"]),
        ("How many vacation days do new employees get?", []),
        ("What did the board decide about Fjordlight in 2025?", ["Fjordlight", "2025"]),
        ("Is the iPhone allowed?", ["iPhone"]),
    ],
)
def test_codes_numbers_and_names_are_the_distinctive_terms(query, terms):
    assert distinctive_terms(query) == terms


def hit(chunk_id: str) -> Hit:
    return Hit(chunk_id, "text", 0, 0.5, ChunkOrigin("d", "t", "u", "s", "local"))


def test_fusion_favours_chunks_high_in_either_ranking_and_those_in_both():
    by_terms = [hit("c"), hit("d")]
    by_meaning = [hit("a"), hit("b"), hit("c")]
    assert [h.chunk_id for h in fuse([by_terms, by_meaning], 4)] == ["c", "a", "d", "b"]


@pytest.fixture
def catalogue(make_runtime):
    runtime = make_runtime(with_llm=False)
    models = ["AB-1203", "AB-1217", "CD-2240", "CD-2291", "EF-3305", "EF-3356", "GH-4410", "GH-4472"]
    for n, model in enumerate(models):
        text = f"The {model} temperature probe measures oven heat up to {300 + n * 10} degrees and costs {40 + n} EUR."
        index(runtime, f"{model}.txt", text, Access.everyone())
    index(runtime, "XK-7741.txt", "XK-7741: 88 EUR, restocked weekly.", Access.everyone())
    index(runtime, "XK-7741-internal.txt", "XK-7741 internal margin: 61 percent.", Access.restricted(groups=["finance"]))
    return runtime


def index(runtime, name: str, text: str, access: Access) -> None:
    item = SourceDocument(external_id=name, title=name, uri=f"file:///parts/{name}", content=text.encode(),
                          filename=name, access=access)
    runtime.indexer.index(PARTS, item)


def test_an_exact_code_is_found_even_when_its_chunk_says_little(catalogue):
    question = "How much does the XK-7741 temperature probe cost?"
    everyone = Viewer("sam@example.com")
    by_meaning = [h.origin.title for h in catalogue.store.query(catalogue.embedder.embed_query(question), 3, everyone)]
    assert "XK-7741.txt" not in by_meaning  # the embedding alone ranks similar-sounding probes higher
    assert [h.origin.title for h in catalogue.assistant.search(question, everyone, 3)][0] == "XK-7741.txt"


def test_the_exact_term_search_keeps_to_what_the_viewer_may_see(catalogue):
    question = "What is the margin on the XK-7741?"
    outsider = [h.origin.title for h in catalogue.assistant.search(question, Viewer("sam@example.com"), 5)]
    insider = [h.origin.title for h in catalogue.assistant.search(question, Viewer("fay@example.com", frozenset({"finance"})), 5)]
    assert "XK-7741-internal.txt" not in outsider and len(outsider) == 5
    assert insider[0] == "XK-7741-internal.txt"


PARKING = [ChatMessage("user", "Which garage level do employees park on?"), ChatMessage("assistant", "Level P3 [1].")]


@pytest.mark.parametrize(
    "follow_up,searched",
    [
        ("Where do visitors park there?", "Which garage level do employees park on?\nWhere do visitors park there?"),
        ("And on weekends?", "Which garage level do employees park on?\nAnd on weekends?"),
        ("What is the guest wifi password?", "What is the guest wifi password?"),
    ],
)
def test_a_follow_up_that_leans_on_the_last_question_is_searched_with_it(follow_up, searched):
    assert with_context(follow_up, PARKING) == searched
    assert with_context(follow_up, []) == follow_up
