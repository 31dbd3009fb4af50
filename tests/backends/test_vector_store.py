"""The vector-store contract, run against both Chroma backends: embedded (PersistentClient in a temp
folder) and a real Chroma server (HttpClient to ``chroma run`` on a loopback port).

Vectors are made by hand (eight dimensions, known angles to the query), so
ranking and scores are exact and the contract tests need no embedding model.

Failure modes covered: hits ranked or scored differently by the server; a
chunk's origin (title, URI, source, ACL, position) not surviving the round
trip; public/user/group ACLs leaking or hiding chunks; a top-k left short
because invisible chunks were closer (filtering after ranking); set_origin
re-sharing or renaming without effect, or losing positions; delete_documents
leaving chunks behind; document_ids ignoring the source; fetching by id
ignoring the ACL or the order asked; a second client not
seeing what the first wrote. And at the Runtime level: ``chroma_url`` set, files
indexed through the Indexer land on the server (not in DATA_DIR/chroma) and are found.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable

import chromadb
import numpy
import pytest

from assistant.access import Access, Viewer
from assistant.store import Chunk, ChunkOrigin, get_store
from assistant.store.chroma import ChromaStore
from enclave.folders import ingest_paths
from tests.conftest import runtime_with, settings_for

DIMENSIONS = 8
QUERY = [1.0] + [0.0] * (DIMENSIONS - 1)


def at_angle(degrees: float, axis: int = 1) -> list[float]:
    """A unit vector ``degrees`` away from QUERY (cosine similarity = cos(degrees)), turned toward ``axis``."""
    vector = [0.0] * DIMENSIONS
    vector[0] = math.cos(math.radians(degrees))
    vector[axis] = math.sin(math.radians(degrees))
    return vector


def origin(document_id: str, access: Access = Access.everyone(), source: str = "files", title: str | None = None):
    return ChunkOrigin(
        document_id=document_id,
        title=title or f"{document_id}.md",
        uri=f"file:///share/{document_id}.md",
        source=source,
        source_type="local",
        access=access,
    )


def chunks_of(document: ChunkOrigin, *angles: float) -> list[Chunk]:
    return [
        Chunk(id=f"{document.document_id}:{n}", text=f"{document.document_id} part {n}", position=n, origin=document,
              embedding=at_angle(angle, axis=1 + n % (DIMENSIONS - 1)))
        for n, angle in enumerate(angles)
    ]  # fmt: skip


@pytest.fixture(params=["embedded", "server"])
def open_store(request, tmp_path) -> Callable[[], ChromaStore]:
    """Factory opening this test's own collection; a second call is a second client on the same data."""
    collection = f"contract-{uuid.uuid4().hex[:12]}"
    if request.param == "embedded":
        return lambda: ChromaStore(collection, path=tmp_path / "chroma")
    url = request.getfixturevalue("chroma_server")
    return lambda: ChromaStore(collection, url=url)


@pytest.fixture
def store(open_store) -> ChromaStore:
    return open_store()


def ids(hits) -> list[str]:
    return [h.chunk_id for h in hits]


def test_hits_are_ranked_and_scored_by_cosine_similarity_with_their_origin(store):
    document = origin("handbook", Access.restricted(users=["ana@example.com"], groups=["hr"]))
    store.upsert(chunks_of(document, 60, 10, 30))

    hits = store.query(QUERY, 2, Viewer.operator())

    assert ids(hits) == ["handbook:1", "handbook:2"]
    assert hits[0].score == pytest.approx(math.cos(math.radians(10)), abs=1e-4)
    assert hits[1].score == pytest.approx(math.cos(math.radians(30)), abs=1e-4)
    assert (hits[0].text, hits[0].position, hits[0].origin) == ("handbook part 1", 1, document)


def test_upserting_an_id_again_replaces_the_chunk(store):
    document = origin("memo")
    store.upsert(chunks_of(document, 40, 50))
    store.upsert([Chunk(id="memo:0", text="memo rewritten", position=0, origin=document, embedding=at_angle(5))])

    assert store.count() == 2
    best = store.query(QUERY, 1, Viewer.operator())[0]
    assert (best.chunk_id, best.text) == ("memo:0", "memo rewritten")


ACLS = {
    "public": Access.everyone(),
    "carol": Access.restricted(users=["Carol@Example.com"]),
    "finance": Access.restricted(groups=["Finance"]),
    "nobody": Access.restricted(),
}
VIEWERS = {
    "operator": (Viewer.operator(), {"public", "carol", "finance", "nobody"}),
    "anonymous": (Viewer(), {"public"}),
    "outsider": (Viewer(email="bob@example.com", groups=frozenset({"sales"})), {"public"}),
    "carol": (Viewer(email=" carol@example.COM"), {"public", "carol"}),
    "finance": (Viewer(email="dan@example.com", groups=frozenset({" FINANCE "})), {"public", "finance"}),
}


@pytest.mark.parametrize("who", VIEWERS)
def test_each_viewer_gets_exactly_the_chunks_they_may_see(store, who):
    for n, (name, access) in enumerate(ACLS.items()):
        store.upsert(chunks_of(origin(name, access), 10 + n))
    viewer, visible = VIEWERS[who]

    hits = store.query(QUERY, 10, viewer)

    assert {h.origin.document_id for h in hits} == visible
    assert all(h.origin.access.allows(viewer) for h in hits)


def test_top_k_stays_full_when_invisible_chunks_are_closer(store):
    for n in range(12):  # the closest chunks, all for finance only
        store.upsert(chunks_of(origin(f"forecast-{n}", ACLS["finance"]), 1 + n))
    for n in range(6):
        store.upsert(chunks_of(origin(f"public-{n}"), 40 + n))

    hits = store.query(QUERY, 5, Viewer(email="bob@example.com"))

    assert ids(hits) == [f"public-{n}:0" for n in range(5)]
    finance = store.query(QUERY, 5, Viewer(email="dan@example.com", groups=frozenset({"finance"})))
    assert ids(finance) == [f"forecast-{n}:0" for n in range(5)]


def test_fetch_returns_chunks_in_the_order_asked_scored_and_within_the_viewers_documents(store):
    store.upsert(chunks_of(origin("plan"), 20, 30))
    store.upsert(chunks_of(origin("secret", ACLS["finance"]), 5))

    hits = store.fetch(["plan:1", "secret:0", "plan:0", "never-stored"], QUERY, Viewer(email="bob@example.com"))

    assert ids(hits) == ["plan:1", "plan:0"]
    assert [h.score for h in hits] == pytest.approx([math.cos(math.radians(30)), math.cos(math.radians(20))], abs=1e-4)
    assert hits[0].position == 1 and hits[0].origin == origin("plan")
    assert ids(store.fetch(["secret:0"], QUERY, Viewer.operator())) == ["secret:0"]
    assert store.fetch([], QUERY, Viewer.operator()) == []


def test_stored_chunks_gives_back_every_chunk_with_its_origin_and_heading(store):
    document = origin("guide", ACLS["finance"])
    store.upsert([Chunk(id="guide:0", text="Parking is on level P3.", position=0, origin=document,
                        embedding=at_angle(10), heading="Parking")])  # fmt: skip
    store.upsert(chunks_of(origin("other"), 20))

    chunks = {c.id: c for c in store.stored_chunks()}

    assert set(chunks) == {"guide:0", "other:0"}
    assert chunks["guide:0"].origin == document and chunks["guide:0"].heading == "Parking"
    assert chunks["guide:0"].text == "Parking is on level P3."


def test_set_origin_reshares_and_renames_every_chunk_without_re_embedding(store):
    before = origin("plan", ACLS["finance"])
    store.upsert(chunks_of(before, 20, 25, 30))
    store.upsert(chunks_of(origin("other", ACLS["finance"]), 35))
    scores = [h.score for h in store.query(QUERY, 3, Viewer.operator())]
    assert store.query(QUERY, 5, Viewer()) == []

    after = origin("plan", Access.everyone(), title="Plan (final).md")
    store.set_origin(after)

    hits = store.query(QUERY, 5, Viewer())
    assert ids(hits) == ["plan:0", "plan:1", "plan:2"]  # "other" is still finance-only
    assert [h.score for h in hits] == pytest.approx(scores, abs=1e-6)
    assert [h.position for h in hits] == [0, 1, 2]
    assert all(h.origin == after for h in hits)
    assert store.count() == 4
    store.set_origin(origin("no-such-document"))  # nothing to change, no error


def test_delete_documents_removes_all_their_chunks_and_nothing_else(store):
    for name in ("a", "b", "c"):
        store.upsert(chunks_of(origin(name), 10, 20, 30))
    assert store.count() == 9

    store.delete_documents(["a", "c", "never-indexed"])

    assert store.count() == 3
    assert store.document_ids() == {"b"}
    assert {h.origin.document_id for h in store.query(QUERY, 9, Viewer.operator())} == {"b"}
    store.delete_documents([])


def test_document_ids_lists_each_source_separately(store):
    store.upsert(chunks_of(origin("f1"), 10, 20))
    store.upsert(chunks_of(origin("f2"), 10))
    store.upsert(chunks_of(origin("s1", source="connector-3"), 10, 20, 30))

    assert store.document_ids() == {"f1", "f2", "s1"}
    assert store.document_ids("files") == {"f1", "f2"}
    assert store.document_ids("connector-3") == {"s1"}
    assert store.document_ids("connector-4") == set()


def test_a_second_client_sees_what_the_first_wrote(open_store):
    first = open_store()
    first.ping()
    assert first.count() == 0
    first.upsert(chunks_of(origin("shared", ACLS["carol"]), 15, 25))

    second = open_store()  # another process opening the store after a restart, or beside the first

    second.ping()
    assert second.count() == 2
    assert ids(second.query(QUERY, 5, Viewer(email="carol@example.com"))) == ["shared:0", "shared:1"]
    assert second.query(QUERY, 5, Viewer(email="bob@example.com")) == []


def test_a_runtime_with_chroma_url_indexes_and_searches_on_the_server(chroma_server, embedder, tmp_path):
    settings = settings_for(data_dir=tmp_path / "data", chroma_url=chroma_server, collection=f"rt-{uuid.uuid4().hex[:8]}")
    runtime = runtime_with(settings, embedder)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "parking.md").write_text("# Parking\n\nEmployees park in garage level P3. Visitors use level P1.\n")
    (folder / "canteen.txt").write_text("The canteen serves soup on Thursdays and pasta on Fridays.\n")
    (folder / "wifi.md").write_text("The guest wifi password rotates every Monday; ask reception.\n")

    summary = ingest_paths(runtime.sink, [folder])

    assert summary.ok and len(summary.added) == 3
    hits = runtime.assistant.search("Where do employees park their cars?", Viewer(), 2)
    assert hits[0].origin.title == "parking.md"
    assert runtime.store.count() == 3
    runtime.store.ping()
    assert not settings.chroma_path.exists(), "nothing may go to the embedded index when chroma_url is set"
    # Another process (the CLI beside the server) opening the same server sees the same index.
    assert get_store(settings).document_ids("files") == runtime.store.document_ids("files")


def clustered_vectors(count: int, seed: int = 7) -> numpy.ndarray:
    """Unit vectors in the embedding model's 384 dimensions, in topics as real chunks are."""
    rng = numpy.random.default_rng(seed)
    topics = rng.normal(size=(count // 50, 384))
    vectors = topics[rng.integers(len(topics), size=count)] + rng.normal(scale=1.5, size=(count, 384))
    return vectors / numpy.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_fifty_nearest_are_exact_even_in_a_collection_made_by_an_older_enclave(tmp_path):
    # Hybrid search scales scores over the 50 nearest; an approximate tail made
    # the same question rank differently after a restart.
    chromadb.PersistentClient(path=str(tmp_path / "chroma")).create_collection(
        "older", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    store = ChromaStore("older", path=tmp_path / "chroma")
    vectors = clustered_vectors(3000)
    document = origin("corpus")
    store.upsert([
        Chunk(id=f"c{n}", text=f"chunk {n}", position=n, origin=document, embedding=v.tolist())
        for n, v in enumerate(vectors)
    ])  # fmt: skip

    for query in vectors[::150]:
        exact = [f"c{n}" for n in numpy.argsort(-(vectors @ query))[:50]]
        assert ids(store.query(query.tolist(), 50, Viewer.operator())) == exact
