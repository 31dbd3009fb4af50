"""Permissions inside the vector store: a viewer only ever gets what they may see, and a full top-k of it.

Failure modes covered: group-only or user-only chunks leaking to others;
filtering after ranking (which returns fewer than k hits, or none, when the
closest chunks are invisible); case or whitespace in emails and group names
defeating the filter; a re-shared document keeping its old ACL.
"""

from __future__ import annotations

import pytest

from assistant.access import Access, Viewer
from ingest.documents import SourceDocument
from ingest.index import Source
from tests.conftest import runtime_with, settings_for

SOURCE = Source(id="acl-test", type="test")
QUERY = "What is the quarterly revenue forecast for the northern region?"

FINANCE = Access.restricted(groups=["Finance"])
CAROL = Access.restricted(users=["Carol@Example.com"])
PUBLIC = Access.everyone()

# Fourteen restricted documents that match the question closely, eight public ones that match it less.
RESTRICTED = [
    (f"forecast-{n}", FINANCE, f"Quarterly revenue forecast for the northern region, scenario {n}: "
     f"revenue grows {n + 2} percent next quarter.")
    for n in range(10)
] + [
    (f"carol-{n}", CAROL, f"Carol's draft of the quarterly revenue forecast for the northern region, version {n}.")
    for n in range(4)
]
PUBLIC_DOCS = [
    (f"public-{n}", PUBLIC, text)
    for n, text in enumerate(
        [
            "The northern office moved to a new building in spring.",
            "Quarterly all-hands meetings take place in the main hall.",
            "Regional managers report to the board once a year.",
            "The company publishes its annual report in March.",
            "Sales teams in the north cover four countries.",
            "Expense reports are due on the fifth of each month.",
            "The cafeteria in the northern office opens at eight.",
            "Forecasts of the weather are posted at reception.",
        ]
    )
]
VIEWERS = {
    "operator": Viewer.operator(),
    "outsider": Viewer(email="bob@example.com"),
    "finance": Viewer(email="dan@example.com", groups=frozenset({" finance "})),
    "carol": Viewer(email=" CAROL@example.com"),
    "anonymous": Viewer(),
}


def _visible(viewer: Viewer) -> set[str]:
    return {name for name, access, _ in RESTRICTED + PUBLIC_DOCS if access.allows(viewer)}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, embedder):
    runtime = runtime_with(settings_for(data_dir=tmp_path_factory.mktemp("acl") / "data"), embedder)
    for name, access, text in RESTRICTED + PUBLIC_DOCS:
        item = SourceDocument(name, f"{name}.txt", f"test://{name}", text, f"{name}.txt", access=access)
        runtime.sink.index(SOURCE, item)
    return runtime


def _names(hits) -> list[str]:
    return [h.origin.title.removesuffix(".txt") for h in hits]


def test_invisible_chunks_are_the_closest(indexed):
    # The premise of the next test: an unfiltered top-5 holds only restricted chunks.
    top = _names(indexed.assistant.search(QUERY, Viewer.operator(), 5))
    assert len(top) == 5
    assert not any(name.startswith("public-") for name in top)


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_top_k_is_full_of_visible_chunks_even_when_closer_ones_are_hidden(indexed, who):
    hits = indexed.assistant.search(QUERY, VIEWERS[who], 5)

    assert len(hits) == 5
    assert all(name.startswith("public-") for name in _names(hits))
    assert all(h.origin.access.public for h in hits)


@pytest.mark.parametrize("who", sorted(VIEWERS))
def test_each_viewer_gets_exactly_what_they_may_see(indexed, who):
    viewer = VIEWERS[who]

    hits = indexed.store.query(indexed.embedder.embed_query(QUERY), 50, viewer)

    assert set(_names(hits)) == _visible(viewer)
    assert all(h.origin.access.allows(viewer) for h in hits)


def test_group_and_user_principals_are_normalised(indexed):
    finance = set(_names(indexed.assistant.search(QUERY, VIEWERS["finance"], 30)))
    carol = set(_names(indexed.assistant.search(QUERY, VIEWERS["carol"], 30)))

    assert {f"forecast-{n}" for n in range(10)} <= finance and not any(n.startswith("carol-") for n in finance)
    assert {f"carol-{n}" for n in range(4)} <= carol and not any(n.startswith("forecast-") for n in carol)
    # A group member's top-5 is the group's closely matching chunks, not the public filler.
    assert all(n.startswith("forecast-") for n in _names(indexed.assistant.search(QUERY, VIEWERS["finance"], 5)))


def test_resharing_a_document_changes_who_sees_it_without_re_embedding(make_runtime):
    runtime = make_runtime(with_llm=False)
    text = "The merger with Northwind closes on the 30th of June."
    item = SourceDocument("merger", "merger.txt", "test://merger", text, "merger.txt", access=FINANCE)
    first = runtime.sink.index(SOURCE, item)
    outsider = Viewer(email="bob@example.com")
    assert runtime.assistant.search("When does the Northwind merger close?", outsider, 3) == []

    shared = SourceDocument("merger", "merger.txt", "test://merger", text, "merger.txt", access=PUBLIC)
    second = runtime.sink.index(SOURCE, shared)

    assert (first.outcome, second.outcome) == ("added", "unchanged")
    hits = runtime.assistant.search("When does the Northwind merger close?", outsider, 3)
    assert [h.chunk_id for h in hits] == [f"{first.document_id}:0"]
    assert hits[0].origin.access == PUBLIC
