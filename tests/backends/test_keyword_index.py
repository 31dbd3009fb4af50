"""The keyword-index contract, on both application databases: SQLite's FTS5 (BM25) and
PostgreSQL's full-text search.

Failure modes covered: ranking that ignores how rare a word is; stop words or
punctuation breaking a query; word forms not matched ("costs" for "cost");
the ACL applied after ranking (a short top-k) or not at all; re-sharing that
does not reach the index; deleted or replaced chunks still found; phrases
matched as loose words; German text stemmed as English (a plural such as
"Kündigungsfristen" missing its singular), a query stemmed in another language
than the chunk it is matched against, accents that must be typed to match.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant import language
from assistant.access import Access, Viewer
from assistant.db import engine_for
from assistant.store import Chunk, ChunkOrigin
from assistant.store.keywords import KeywordIndex, keyword_index_for, query_terms

FINANCE = Access.restricted(groups=["finance"])
BOB = Viewer("bob@example.com")
FAY = Viewer("fay@example.com", frozenset({"finance"}))


@pytest.fixture(params=["sqlite", "postgresql"])
def keywords(request, tmp_path) -> KeywordIndex:
    url = f"sqlite:///{tmp_path / 'enclave.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return keyword_index_for(engine_for(url))


@pytest.fixture
def bm25(tmp_path) -> KeywordIndex:
    """SQLite's FTS5 ranks by BM25; PostgreSQL's ts_rank_cd weighs every word alike (see README, Design)."""
    return keyword_index_for(engine_for(f"sqlite:///{tmp_path / 'enclave.db'}"))


def chunk(document_id: str, text: str, access: Access = Access.everyone(), n: int = 0, heading: str = "") -> Chunk:
    origin = ChunkOrigin(document_id, f"{document_id}.md", f"file:///{document_id}.md", "files", "local", access)
    return Chunk(id=f"{document_id}:{n}", text=text, position=n, origin=origin, heading=heading)


def found(hits) -> list[str]:
    return [h.chunk_id for h in hits]


def test_query_terms_drop_stop_words_and_punctuation():
    assert query_terms("What's the price of the VB-900, and who sells it?") == ["price", "vb", "900", "sells"]
    assert query_terms("the of and?!") == []


def test_bm25_ranks_rare_words_above_common_ones(bm25):
    probes = [chunk(f"probe-{n}", f"The temperature probe P{n} costs {40 + n} EUR.") for n in range(6)]
    bm25.add([*probes, chunk("xk", "XK-7741: 88 EUR, restocked weekly.")])

    hits = bm25.search("How much does the XK-7741 temperature probe cost?", 3, BOB)

    assert found(hits)[0] == "xk:0"
    assert len(hits) == 3 and hits[0].score > hits[1].score


def test_word_forms_match(keywords):
    keywords.add([chunk("probe", "The temperature probe costs 40 EUR."), chunk("other", "A different text.")])

    assert found(keywords.search("costing probes", 10, BOB)) == ["probe:0"]  # one stem for cost, costs, costing


def test_the_viewers_acl_is_applied_inside_the_query(keywords):
    keywords.add([chunk(f"secret-{n}", "quarterly margin margin margin forecast", FINANCE) for n in range(5)])
    keywords.add([chunk(f"public-{n}", f"margin note {n} with many other words to dilute it") for n in range(3)])
    keywords.add([chunk("bob-only", "margin memo", Access.restricted(users=["bob@example.com"]))])

    bobs = found(keywords.search("margin forecast", 3, BOB))  # the finance chunks match best, and are hidden
    assert len(bobs) == 3 and bobs[0] == "bob-only:0" and not any(c.startswith("secret") for c in bobs)
    assert {h.chunk_id.split(":")[0] for h in keywords.search("margin", 10, BOB)} == {
        "bob-only", "public-0", "public-1", "public-2"}  # fmt: skip
    assert set(found(keywords.search("margin forecast", 5, FAY))) == {f"secret-{n}:0" for n in range(5)}
    assert len(keywords.search("margin", 20, Viewer.operator())) == 9


def test_re_sharing_a_document_reaches_the_index(keywords):
    keywords.add([chunk("plan", "merger plan Fjordlight", FINANCE)])
    assert keywords.search("Fjordlight", 5, BOB) == []

    keywords.set_access("plan", Access.everyone())

    assert found(keywords.search("Fjordlight", 5, BOB)) == ["plan:0"]


def test_deleted_and_replaced_chunks_are_no_longer_found(keywords):
    keywords.add([chunk("a", "alpha parking garage", n=0), chunk("a", "alpha canteen", n=1), chunk("b", "beta parking")])
    keywords.add([chunk("b", "beta bicycles")])  # the same chunk id, new text

    assert found(keywords.search("parking", 5, BOB)) == ["a:0"]
    keywords.delete_documents(["a", "never-indexed"])

    assert keywords.search("alpha", 5, BOB) == []
    assert found(keywords.search("bicycles", 5, BOB)) == ["b:0"]
    assert keywords.count() == 1


def test_phrases_match_word_for_word(keywords):
    keywords.add([chunk("exact", "Order the VB-900 today."), chunk("loose", "The 900 series and the VB line.")])

    assert found(keywords.search_phrases(["VB-900"], 5, BOB)) == ["exact:0"]
    assert set(found(keywords.search("VB-900", 5, BOB))) == {"exact:0", "loose:0"}
    assert keywords.search_phrases(['"'], 5, BOB) == []


def test_the_title_and_heading_are_searchable_with_the_text(keywords):
    keywords.add([chunk("handbook", "Up to five days carry over.", heading="Vacation carry-over")])

    assert found(keywords.search("handbook vacation", 5, BOB)) == ["handbook:0"]


GERMAN = (
    "Urlaubsanträge reichen Sie spätestens zwei Wochen vor dem ersten Urlaubstag ein. "
    "Die Kündigungsfristen richten sich nach der Dauer der Betriebszugehörigkeit."
)


def written(document_id: str, text: str) -> Chunk:
    """A chunk as the indexer makes it: in its text's detected language."""
    return replace(chunk(document_id, text), language=language.of_document(text))


def test_german_documents_are_matched_on_german_stems_english_ones_on_english(keywords):
    keywords.add([written("urlaub", GERMAN), written("probe", "The temperature probes cost 40 EUR and ship weekly.")])

    assert keywords.languages() in (["de", "en"], ["en", "de"])
    assert found(keywords.search("Welche Kündigungsfrist gilt für mich?", 5, BOB)) == ["urlaub:0"]  # -en plural
    assert found(keywords.search("Wie stelle ich einen Urlaubsantrag?", 5, BOB)) == ["urlaub:0"]  # Anträge: Antrag
    assert found(keywords.search("Kundigungsfrist", 5, BOB)) == ["urlaub:0"]  # typed without its umlaut
    assert found(keywords.search("costing probe", 5, BOB)) == ["probe:0"]  # English still stemmed as English
    assert found(keywords.search_phrases(["zwei Wochen"], 5, BOB)) == ["urlaub:0"]


def test_a_german_stop_word_does_not_match_every_german_chunk(bm25):
    bm25.add([written("urlaub", GERMAN), written("reise", "Die Reisekosten erstattet die Buchhaltung innerhalb eines Monats.")])

    assert found(bm25.search("Wie lange ist die Kündigungsfrist?", 5, BOB)) == ["urlaub:0"]


def test_accents_need_not_be_typed_in_any_language(bm25):
    bm25.add([written("conges", "Les congés payés sont de vingt-cinq jours ouvrés par année complète de travail.")])

    assert language.of_document("Les congés payés sont de vingt-cinq jours ouvrés.") == "fr"
    assert found(bm25.search("conges payes", 5, BOB)) == ["conges:0"]
