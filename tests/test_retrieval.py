"""Retrieval: codes and names embeddings blur are found literally, within the asker's
permissions, and merged with the vector ranking; a passage repeated across documents is
kept once; hits carry their section heading; a configured reranker orders the candidates;
follow-ups are searched in their context."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from assistant.access import Access, Viewer
from assistant.embeddings.local import bundled_model_path
from assistant.expansion import PassageWriter
from assistant.llm import ChatMessage
from assistant.retrieval import by_document_support, distinctive_terms, fuse, with_context
from assistant.store import ChunkOrigin, Hit
from ingest.documents import SourceDocument
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


def hit(chunk_id: str, score: float = 0.5, document: str = "d", fused: float | None = None) -> Hit:
    return Hit(chunk_id, "text", 0, score, ChunkOrigin(document, "t", "u", "s", "local"), fused=fused)


def test_fusion_adds_both_halves_scores_scaled_to_one_and_a_bonus_for_exact_codes():
    by_meaning = [hit("a", 0.8), hit("c", 0.6), hit("b", 0.5)]  # scaled: a 1, c 1/3, b 0
    by_words = [(hit("c"), 10.0), (hit("d"), 6.0), (hit("e"), 2.0)]  # scaled: c 1, d 0.5, e 0

    assert [h.chunk_id for h in fuse(by_meaning, by_words)] == ["c", "a", "d", "b", "e"]
    assert [h.chunk_id for h in fuse(by_meaning, by_words, exact={"e"})] == ["c", "a", "d", "e", "b"]
    assert [h.chunk_id for h in fuse([], [(hit("x"), 3.0)])] == ["x"]
    # Weighted towards meaning, as beside a written passage: a 0.8, c 0.8/3 + 0.2, d 0.1
    assert [h.chunk_id for h in fuse(by_meaning, by_words, keyword_weight=0.2)] == ["a", "c", "d", "b", "e"]


def test_a_page_with_several_matching_passages_outranks_one_stray_match():
    stray = hit("stray", document="release-notes", fused=0.9)
    scores = {"p1": 0.7, "p2": 0.6, "p3": 0.5, "p4": 0.3, "p5": 0.1}
    page = [hit(chunk, document="functions-admin", fused=score) for chunk, score in scores.items()]
    short = [hit(f"a{n}", document="abstract", fused=0.85 - n / 100) for n in range(4)]  # four hits: no support

    ranked = by_document_support([stray, *page, *short])

    # p1: 0.7 + 0.6 × (0.6 + 0.5 + 0.3) = 1.54; p5: 0.1 + 0.6 × 1.8 = 1.18 (the three best others count)
    assert [h.chunk_id for h in ranked] == ["p1", "p2", "p3", "p4", "p5", "stray", "a0", "a1", "a2", "a3"]
    assert [h.fused for h in ranked][:3] == [0.7, 0.6, 0.5]  # the relevance bar still reads each hit's own match


@pytest.mark.parametrize("setting", [True, False])
def test_ranking_by_document_follows_its_setting(make_runtime, setting):
    assert make_runtime(with_llm=False, rank_by_document=setting).retriever.rank_by_document is setting


@pytest.mark.parametrize("setting", [True, False])
def test_query_expansion_follows_its_setting(make_runtime, setting):
    expand = make_runtime(with_llm=False, expand_queries=setting).retriever.expand
    assert isinstance(expand, PassageWriter) if setting else expand is None


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
    runtime.sink.index(PARTS, item)


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


def test_with_queries_expanded_search_looks_for_the_written_passage_beside_the_question(catalogue):
    question, viewer = "Which probe is made for the very hottest ovens?", Viewer.operator()
    written = []

    def expand(query: str) -> str:  # a passage in the catalogue's own words, as the check model writes one
        written.append(query)
        return f"{query}\nThe GH-4472 temperature probe measures oven heat up to 370 degrees."

    assert catalogue.assistant.search(question, viewer, 1)[0].origin.title != "GH-4472.txt"
    catalogue.retriever.expand = expand
    assert catalogue.assistant.search(question, viewer, 1)[0].origin.title == "GH-4472.txt"
    assert written == [question]


@pytest.mark.llm
def test_the_model_writes_the_passage_a_search_looks_for(llm):
    question = "How do I stop a query that has been running far too long in another session?"
    expanded = PassageWriter(lambda: llm)(question)
    assert expanded.startswith(f"{question}\n") and len(expanded.split()) > len(question.split()) + 10


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


DISCLAIMER = "This document is confidential. Do not forward it outside Tarnwick Sensors or print it at home."


def test_a_passage_repeated_across_documents_does_not_crowd_the_top_k(catalogue):
    for n in range(6):
        index(catalogue, f"memo-{n}.txt", DISCLAIMER, Access.everyone())
    index(catalogue, "memo-6.txt", DISCLAIMER + " (v2)", Access.everyone())  # nearly word for word

    hits = catalogue.assistant.search("May I forward confidential documents or print them at home?", Viewer("sam@x.org"), 5)

    assert len(hits) == 5
    assert sum(h.origin.title.startswith("memo-") for h in hits) == 1
    assert hits[0].origin.title.startswith("memo-")


def test_each_hit_carries_its_section_heading(make_runtime):
    runtime = make_runtime(with_llm=False)
    body = "Level P3 of the garage is for employees; visitors use level P1 and register at reception. " * 3
    index(runtime, "guide.md", f"# Office guide\n\n{'Welcome to the Linz office. ' * 10}\n\n## Parking\n\n{body}",
          Access.everyone())  # fmt: skip

    [hit] = runtime.assistant.search("Where do visitors park?", Viewer.operator(), 1)

    assert hit.heading == "Parking" and "visitors use level P1" in hit.text


@pytest.fixture
def cross_encoder(tmp_path_factory, embedder) -> Path:
    """A cross-encoder folder made from the bundled MiniLM (its scoring head freshly initialised, then
    saved): not a good reranker, but a real one, whose order differs from the retriever's."""
    from sentence_transformers import CrossEncoder

    folder = tmp_path_factory.mktemp("cross-encoder")
    torch.manual_seed(7)
    CrossEncoder(str(bundled_model_path()), num_labels=1, device="cpu").save(str(folder))
    return folder


def test_a_reranker_reorders_the_fused_candidates_when_configured(make_runtime, cross_encoder):
    plain = make_runtime(with_llm=False)
    reranked = make_runtime(with_llm=False, reranker_model=cross_encoder, rerank_candidates=6)
    models = ["AB-1203", "AB-1217", "CD-2240", "CD-2291", "EF-3305", "EF-3356", "GH-4410", "GH-4472"]
    for n, model in enumerate(models):
        index(plain, f"{model}.txt", f"The {model} probe measures up to {300 + n * 10} degrees.", Access.everyone())
    question, viewer = "Which probe measures the hottest ovens?", Viewer.operator()

    candidates = plain.assistant.search(question, viewer, 6)
    scores = reranked.reranker.model.predict([(question, h.text) for h in candidates])
    expected = [h.chunk_id for _, h in sorted(zip(scores, candidates), key=lambda pair: -pair[0])][:3]

    assert plain.reranker is None
    assert [h.chunk_id for h in reranked.assistant.search(question, viewer, 3)] == expected
    assert expected != [h.chunk_id for h in candidates[:3]]  # the reranker did change the order
