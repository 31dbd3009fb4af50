"""`enclave eval` as people run it: real subprocesses of .venv/bin/enclave over real files, the real
embedder, Chroma and keyword index on disk, and the real 0.5B model for answers.

SQuAD's whole corpus (2,067 paragraphs) is indexed once for the module, since
recall means nothing over part of it; the runs share that scratch index.
Failure modes covered: a benchmark indexed into the appliance's own index; the
scratch index rebuilt on every run, or reused with different numbers; a search
mode missing; recall that is implausibly low (gold ids not matched to hits) or
inconsistent (recall@1 above recall@5, MRR outside them); answers not scored,
or scored against the wrong text; a gold document of a JSONL file that is not
indexed passing silently as a miss; --answers on questions without gold
answers reporting zeros; the report printed and written differently.
"""

from __future__ import annotations

import json

import pytest

from enclave.evaluation.metrics import token_f1
from tests.conftest import REPO, run_enclave

SAMPLES = REPO / "samples"
SAMPLE_QUESTIONS = REPO / "tests" / "data" / "sample_questions.json"
MODES = {"keyword", "dense", "hybrid"}


def check_rankings(scores: dict) -> None:
    assert 0 <= scores["recall@1"] <= scores["mrr@10"] <= 1
    assert scores["recall@1"] <= scores["recall@5"] <= 1


@pytest.fixture(scope="module")
def samples_index(tmp_path_factory):
    """A data directory where `enclave ingest samples/` ran, as a company would index its documents."""
    data_dir = tmp_path_factory.mktemp("eval-samples")
    ingested = run_enclave("ingest", str(SAMPLES), data_dir=data_dir)
    assert ingested.returncode == 0, ingested.stderr
    return data_dir


def test_a_jsonl_file_of_questions_is_evaluated_against_the_ingested_documents(cli, samples_index, tmp_path):
    lines = []
    answerable = [q for q in json.loads(SAMPLE_QUESTIONS.read_text()) if q["kind"] == "answerable"]
    for n, asked in enumerate(answerable):
        path = SAMPLES / asked["file"]
        # Both ways of naming the right document: the file's path (its external id), or its URI.
        gold = {"gold_uris": [path.as_uri()]} if n % 2 else {"gold_ids": [str(path)]}
        lines.append(json.dumps({"question": asked["question"], **gold}))
    questions = tmp_path / "tarnwick.jsonl"
    questions.write_text("\n".join(lines) + "\n")

    result = cli("eval", str(questions), "--json", "--output", str(tmp_path / "results"), data_dir=samples_index)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["dataset"], report["questions"], report["indexed"]) == ("tarnwick", len(answerable), 0)
    assert report["documents"] == len([p for p in SAMPLES.iterdir() if p.is_file()])
    assert set(report["retrieval"]) == MODES
    for scores in report["retrieval"].values():
        check_rankings(scores)
    # Each sample question has exactly one document that answers it (samples/README.md).
    assert report["retrieval"]["hybrid"]["recall@5"] >= 0.9
    assert report["answers"] is None
    assert json.loads((tmp_path / "results" / "eval-tarnwick.json").read_text()) == report
    assert "| hybrid |" in (tmp_path / "results" / "eval-tarnwick.md").read_text()


def test_a_gold_document_that_is_not_indexed_stops_the_run_instead_of_counting_as_a_miss(cli, samples_index, tmp_path):
    questions = tmp_path / "typo.jsonl"
    questions.write_text(json.dumps({"question": "Where do I park?", "gold_ids": ["/nowhere/parking.pdf"]}) + "\n")

    result = cli("eval", str(questions), "--output", str(tmp_path / "results"), data_dir=samples_index)

    assert result.returncode == 2
    assert "gold_ids '/nowhere/parking.pdf' (of 'Where do I park?') matches no indexed document" in result.stderr
    assert not (tmp_path / "results").exists()


def test_answers_cannot_be_scored_without_gold_answers(cli, samples_index, tmp_path):
    questions = tmp_path / "unanswered.jsonl"
    questions.write_text(json.dumps({"question": "Where do I park?", "gold_ids": [str(SAMPLES / "it_hr_faq.md")]}) + "\n")

    result = cli("eval", str(questions), "--answers", "--output", str(tmp_path / "results"), data_dir=samples_index)

    assert result.returncode == 2
    assert f'--answers needs questions with "answers" to score; {questions} has none' in result.stderr


@pytest.fixture(scope="module")
def squad(tmp_path_factory, shared_datasets):
    """(data dir, output folder, first `enclave eval squad --limit 50 --json`): the whole corpus indexed once."""
    data_dir, output = tmp_path_factory.mktemp("eval-squad"), tmp_path_factory.mktemp("eval-squad-results")
    result = run_enclave("eval", "squad", "--limit", "50", "--json", "--output", str(output), data_dir=data_dir, timeout=1800)
    assert result.returncode == 0, result.stderr
    return data_dir, output, json.loads(result.stdout)


def test_squad_retrieval_is_measured_in_each_search_mode_over_the_whole_corpus(squad):
    data_dir, output, report = squad

    assert (report["dataset"], report["questions"], report["documents"], report["indexed"]) == ("squad", 50, 2067, 2067)
    assert set(report["retrieval"]) == MODES
    for scores in report["retrieval"].values():
        check_rankings(scores)
    # Plain BM25 and the embeddings each find most gold paragraphs; together they find more (SOURCE.md: BM25
    # recall@5 is 0.92 over the whole dev set). Lower numbers mean gold ids are not matched to hits.
    assert report["retrieval"]["keyword"]["recall@5"] >= 0.7
    assert report["retrieval"]["dense"]["recall@5"] >= 0.7
    assert report["retrieval"]["hybrid"]["recall@5"] >= 0.8
    assert report["settings"] == {
        "embedding_model": "all-MiniLM-L6-v2", "chunk_size": 1000, "chunk_overlap": 150, "top_k": 3, "reranker_model": None
    }
    assert report["answers"] is None
    assert json.loads((output / "eval-squad.json").read_text()) == report
    # The benchmark has an index of its own; the appliance's stays empty.
    assert [p.name for p in (data_dir / "eval").iterdir()] == [p.name for p in (data_dir / "eval").glob("squad-*")]
    assert not (data_dir / "chroma").exists() and not (data_dir / "enclave.db").exists()


def test_a_second_run_reuses_the_scratch_index_and_measures_the_same(cli, squad, tmp_path):
    data_dir, _, first = squad

    again = cli("eval", "squad", "--limit", "50", "--json", "--output", str(tmp_path), data_dir=data_dir)

    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["indexed"] == 0
    assert report["retrieval"] == first["retrieval"]


def test_the_terminal_report_is_a_table_per_part(cli, squad, tmp_path):
    data_dir, _, _ = squad

    shown = cli("eval", "squad", "--limit", "5", "--output", str(tmp_path), data_dir=data_dir)

    assert shown.returncode == 0, shown.stderr
    assert "Retrieval: squad, 5 questions over 2,067 documents" in shown.stdout
    for mode in MODES:
        assert mode in shown.stdout
    assert f"Written to {tmp_path / 'eval-squad.json'}" in shown.stderr


@pytest.mark.llm
def test_answers_from_the_model_are_scored_against_squad_gold_answers(cli, squad, tmp_path):
    data_dir, _, _ = squad

    result = cli(
        "eval", "squad", "--limit", "5", "--answers", "--answer-limit", "4", "--json", "--output", str(tmp_path),
        data_dir=data_dir,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    answers = report["answers"]
    assert answers["questions"] == len(answers["replies"]) == 4
    for reply in answers["replies"]:
        assert "[1]" not in reply["reply"]  # citation markers are not part of the answer
        assert reply["f1"] == token_f1(reply["reply"], reply["gold"])
        assert reply["exact_match"] <= reply["f1"]
    assert answers["f1"] == sum(r["f1"] for r in answers["replies"]) / 4
    assert answers["f1"] > 0  # the small model gets some of these words right
    latency = answers["latency_s"]
    assert latency["answered"] + answers["found_nothing"] == 4
    assert latency["first_token_p50"] <= latency["total_p50"]
    assert report["settings"]["model"] == "qwen2.5-coder-0.5b-instruct"
    assert report["settings"]["context_size"] == 2048
    assert (tmp_path / "eval-squad-answers-qwen2.5-coder-0.5b-instruct.json").is_file()
    assert "Answers: qwen2.5-coder-0.5b-instruct, 4 questions" in (
        tmp_path / "eval-squad-answers-qwen2.5-coder-0.5b-instruct.md"
    ).read_text()


@pytest.mark.llm
def test_handbook_answers_are_judged_tune_validation_and_holdout_apart(cli, tmp_path):
    """The judged set over samples/: indexed apart, every kind of question judged, each part reported."""
    data_dir = tmp_path / "data"
    result = cli("eval", "handbook", "--answer-limit", "6", "--json", "--output", str(tmp_path / "results"), data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    questions = json.loads(SAMPLE_QUESTIONS.read_text())
    assert (report["dataset"], report["indexed"]) == ("handbook", len([p for p in SAMPLES.iterdir() if p.is_file()]))
    assert report["questions"] == sum(q["kind"] in ("answerable", "false_premise") for q in questions)
    answers = report["answers"]
    assert answers["questions"] == len(answers["replies"]) == 6
    assert set(answers["splits"]) == {"tune", "validation", "holdout"}  # a sample holds each part
    assert sum(part["questions"] for part in answers["splits"].values()) == 6
    judged = {(r["question"], r["kind"], r["split"]) for r in answers["replies"]}
    assert judged <= {(q["question"], q["kind"], q["split"]) for q in questions}
    for reply in answers["replies"]:
        assert isinstance(reply["right"], bool) and reply["dangling_markers"] == 0
    assert answers["all"]["dangling_markers"] == 0
    assert "| holdout |" in (tmp_path / "results" / "eval-handbook-answers-qwen2.5-coder-0.5b-instruct.md").read_text()
    # The appliance's own index stays empty.
    assert not (data_dir / "chroma").exists() and not (data_dir / "enclave.db").exists()
