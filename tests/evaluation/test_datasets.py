"""The datasets `enclave eval` reads: the two public benchmarks as their SOURCE.md describes them,
and the JSONL format a company writes about its own documents.

Failure modes covered: paragraphs or questions dropped or duplicated, ids that
do not match SOURCE.md, a question pointing at the wrong paragraph; PubMedQA's
question leaking into the document it must find (as its title), its
conclusion leaking into the text, the test split not being the official one;
a malformed JSONL line accepted silently or reported without its line number.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assistant.errors import ConfigurationError
from enclave.evaluation import datasets


@pytest.fixture(scope="module")
def squad(shared_datasets):
    return datasets.load("squad")


@pytest.fixture(scope="module")
def pubmedqa(shared_datasets):
    return datasets.load("pubmedqa")


def test_squad_is_every_paragraph_of_the_dev_set_with_every_question(squad):
    assert len(squad.corpus) == 2067
    assert len({d.external_id for d in squad.corpus}) == 2067
    assert len(squad.questions) == 10570
    assert squad.answer_pool == squad.questions
    assert squad.answer_kind == "span"


def test_a_squad_question_points_at_its_own_paragraph_which_holds_its_answers(squad):
    paragraphs = {d.external_id: d for d in squad.corpus}
    first = squad.questions[0]

    assert first.text == "Which NFL team represented the AFC at Super Bowl 50?"
    assert first.gold_ids == {"Super_Bowl_50#0"}
    assert paragraphs["Super_Bowl_50#0"].title == "Super Bowl 50"
    assert "Denver Broncos" in first.answers
    for question in squad.questions:
        [gold] = question.gold_ids
        assert all(answer in paragraphs[gold].text for answer in question.answers)


def test_pubmedqa_is_every_abstract_without_its_question_or_conclusion(pubmedqa):
    assert len(pubmedqa.corpus) == len(pubmedqa.questions) == 1000
    abstract = next(d for d in pubmedqa.corpus if d.external_id == "21645374")
    question = next(q for q in pubmedqa.questions if q.gold_ids == {"21645374"})

    assert question.text.startswith("Do mitochondria play a role in remodelling lace plant leaves")
    assert abstract.title == "PMID 21645374"
    for document, asked in zip(pubmedqa.corpus, pubmedqa.questions):
        assert asked.gold_ids == {document.external_id}
        assert asked.text not in document.title + document.text
    assert abstract.text.startswith("Programmed cell death (PCD) is the regulated death of cells")


def test_pubmedqa_answers_are_decisions_scored_on_the_official_test_split(pubmedqa):
    assert Counter(q.answers[0] for q in pubmedqa.questions) == {"yes": 552, "no": 338, "maybe": 110}
    assert len(pubmedqa.answer_pool) == 500
    assert len({next(iter(q.gold_ids)) for q in pubmedqa.answer_pool}) == 500
    assert "12377809" in {next(iter(q.gold_ids)) for q in pubmedqa.answer_pool}
    assert pubmedqa.answer_kind == "yes_no_maybe"


def test_a_jsonl_file_names_gold_documents_by_id_or_uri(tmp_path):
    path = tmp_path / "helpdesk.jsonl"
    path.write_text(
        '{"question": "How long is the notice period?", "gold_ids": ["/srv/hr/contract.pdf"], "answers": ["3 months"]}\n'
        "\n"
        '{"question": "Who approves travel?", "gold_uris": ["file:///srv/hr/travel.pdf", "file:///srv/hr/faq.md"]}\n'
    )

    dataset = datasets.load(str(path))

    assert dataset.name == "helpdesk"
    assert dataset.corpus is None  # asked of what `enclave ingest` indexed
    first, second = dataset.questions
    assert first.gold_ids == {"/srv/hr/contract.pdf"} and first.answers == ("3 months",)
    assert second.gold_uris == {"file:///srv/hr/travel.pdf", "file:///srv/hr/faq.md"} and second.answers == ()
    assert dataset.answer_pool == [first]  # only questions with answers can have them scored


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("{not json", "helpdesk.jsonl:2: not JSON"),
        ('{"gold_ids": ["a"]}', 'helpdesk.jsonl:2: each line needs a "question" string'),
        ('{"question": "Who?"}', 'helpdesk.jsonl:2: name the right documents in "gold_ids" or "gold_uris"'),
        ('{"question": "Who?", "gold_ids": "a"}', 'helpdesk.jsonl:2: "gold_ids" must be a list of strings'),
    ],
)
def test_a_malformed_jsonl_line_is_refused_with_its_line_number(tmp_path, line, complaint):
    path = tmp_path / "helpdesk.jsonl"
    path.write_text('{"question": "Fine?", "gold_ids": ["a"]}\n' + line + "\n")

    with pytest.raises(ConfigurationError, match=complaint):
        datasets.load(str(path))


def test_an_unknown_dataset_name_says_what_is_accepted():
    with pytest.raises(ConfigurationError, match=r"'sqad' is neither a built-in dataset \(squad, pubmedqa, handbook, bilingual-tune, bilingual-holdout\) nor a JSONL file"):
        datasets.load("sqad")


def test_the_bilingual_halves_split_every_question_once_over_files_that_exist():
    tune, holdout = datasets.load("bilingual-tune"), datasets.load("bilingual-holdout")

    assert len(tune.questions) == len(holdout.questions) == 34
    assert not {q.text for q in tune.questions} & {q.text for q in holdout.questions}
    assert tune.corpus_folder == holdout.corpus_folder == datasets.BILINGUAL_FOLDER
    assert all(Path(g).is_file() for q in tune.questions + holdout.questions for g in q.gold_ids)
