"""Questions answered end to end: real files, the real embedder, Chroma and the real 0.5B model.

Failure modes covered: the answer missing the fact, or citing the wrong file
(or none) when the fact is in exactly one of many files; the streamed tokens
not adding up to the answer; a question the documents cannot answer reaching
the model instead of getting the "nothing found" reply; a document the viewer
may not see being used to answer them; more passages in the prompt than the
source budget allows.
"""

from __future__ import annotations

import pytest

from assistant import prompts
from assistant.access import Access, Viewer
from assistant.llm import LLM
from assistant.rag import Answer, Token
from connectors.models import SourceDocument
from ingest.files import ingest_paths
from ingest.index import Source
from tests.conftest import runtime_with, settings_for
from tests.fakes import SlowLLM

FACT_FILE = "facilities.docx"
QUESTION = "What is the access code for the server room in Building C?"
FACT = "7391"
UNRELATED_QUESTION = "Who won the 1998 football world cup?"


def write_facilities_docx(path):
    import docx

    document = docx.Document()
    document.add_heading("Facilities handbook", level=1)
    document.add_paragraph(
        "The server room in Building C opens with access code 7391. Visitors must be escorted at all times."
    )
    document.add_paragraph("Meeting rooms are booked through the intranet calendar.")
    document.save(path)


class ModelMustNotRun(LLM):
    """An LLM that fails the test if anything asks it to generate, or even to count tokens."""

    name = "must-not-run"
    context_size = 2048

    def _stream(self, messages, options):
        raise AssertionError("the model was called")

    def count_tokens(self, text):
        raise AssertionError("the model was consulted")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, documents):
    """Every sample format as distractors, plus the one file holding the access code."""
    folder = tmp_path_factory.mktemp("answers") / "docs"
    documents(folder)
    write_facilities_docx(folder / FACT_FILE)
    return folder


@pytest.fixture(scope="module")
def answering(tmp_path_factory, corpus, embedder, llm):
    runtime = runtime_with(settings_for(data_dir=tmp_path_factory.mktemp("answers-data")), embedder, llm)
    summary = ingest_paths(runtime.indexer, [corpus])
    assert summary.ok and len(summary.added) == 10
    return runtime


@pytest.mark.llm
def test_answer_holds_the_fact_and_cites_its_file_first(answering, corpus):
    events = list(answering.assistant.ask(QUESTION, Viewer.operator()))

    answer = events[-1]
    assert isinstance(answer, Answer) and not answer.found_nothing
    tokens = [e.text for e in events[:-1]]
    assert tokens and all(isinstance(e, Token) for e in events[:-1])
    assert "".join(tokens).strip() == answer.text
    assert FACT in answer.text
    assert answer.sources, "an answer from the documents lists its sources"
    assert answer.sources[0].hit.origin.title == FACT_FILE
    assert answer.sources[0].to_dict()["uri"] == (corpus / FACT_FILE).as_uri()


def test_unanswerable_question_gets_nothing_found_without_the_model(answering, embedder):
    runtime = runtime_with(answering.settings, embedder, ModelMustNotRun())

    answer = runtime.assistant.answer(UNRELATED_QUESTION, Viewer.operator())

    assert answer.found_nothing
    assert answer.text == prompts.NOTHING_FOUND
    assert answer.sources == [] and answer.to_dict() == {"answer": prompts.NOTHING_FOUND, "sources": []}


def test_a_document_the_viewer_may_not_see_is_not_used_to_answer(make_runtime, tmp_path):
    runtime = make_runtime(with_llm=False)
    runtime._llm = ModelMustNotRun()
    write_facilities_docx(tmp_path / FACT_FILE)
    ingest_paths(runtime.indexer, [tmp_path / FACT_FILE], access=Access.restricted(groups=["facilities"]))

    outsider = runtime.assistant.answer(QUESTION, Viewer(email="eve@example.com"))

    assert outsider.found_nothing and outsider.sources == []
    # The document is there: a member of the group would get it (retrieval only, no model needed).
    member = Viewer(email="fm@example.com", groups=frozenset({"facilities"}))
    assert [h.origin.title for h in runtime.assistant.search(QUESTION, member)] == [FACT_FILE]


@pytest.mark.parametrize(("source_tokens", "passages"), [(4096, 4), (120, 1)])
def test_the_source_budget_caps_the_passages_in_the_prompt(make_runtime, source_tokens, passages):
    runtime = make_runtime(with_llm=False, source_tokens=source_tokens, min_relevance=-1, relevance_margin=2, top_k=4)
    runtime._llm = recorder = SlowLLM(length=3, pause=0)
    for n in range(4):
        text = f"Building {n} has {n + 2} floors and a canteen on the ground floor. " * 4  # about 90 tokens
        runtime.indexer.index(Source("files", "local"), SourceDocument(f"b{n}", f"b{n}.txt", f"file:///b{n}", text, "b.txt"))

    runtime.assistant.answer("How many floors does each building have?", Viewer.operator())

    assert recorder.generations[0].question.count("<source ") == passages
