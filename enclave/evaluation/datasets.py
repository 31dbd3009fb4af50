"""The questions an evaluation asks, with what counts as a right passage and a right answer.

Two public benchmarks are built in, read from ``../shared/datasets`` beside the
repository (see the SOURCE.md of each): ``squad`` and ``pubmedqa``. They bring
their own corpus, which is indexed apart from the appliance's documents. Any
other DATASET is a JSONL file of questions about the documents already indexed
with ``enclave ingest`` or a connector, one object per line:

    {"question": "...", "gold_ids": ["..."], "answers": ["..."]}
    {"question": "...", "gold_uris": ["file:///srv/policies/travel.pdf"]}

``gold_ids`` name the right documents by Enclave's document id or by their
external id (for a local file: its absolute path, as `enclave ingest` records
it); ``gold_uris`` by the URI their citations open. ``answers`` is optional:
acceptable short answers, scored like SQuAD's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.errors import ConfigurationError

REPOSITORY = Path(__file__).resolve().parents[2]
SHARED_DATASETS = REPOSITORY.parent / "shared" / "datasets"
SQUAD_FILE = SHARED_DATASETS / "squad-v1.1-dev" / "dev-v1.1.json"
PUBMEDQA_FILE = SHARED_DATASETS / "pubmedqa-pqal" / "ori_pqal.json"
PUBMEDQA_TEST_FILE = SHARED_DATASETS / "pubmedqa-pqal" / "test_ground_truth.json"
SAMPLES = REPOSITORY / "samples"
HANDBOOK_FILE = REPOSITORY / "tests" / "data" / "sample_questions.json"
BILINGUAL_FILE = REPOSITORY / "tests" / "data" / "bilingual_questions.json"
BILINGUAL_FOLDER = REPOSITORY / "tests" / "data" / "bilingual"

AnswerKind = Literal["span", "yes_no_maybe", "judged"]
QuestionKind = Literal["answerable", "false_premise", "look_answerable", "unanswerable"]


@dataclass(frozen=True)
class CorpusDocument:
    external_id: str
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    text: str
    gold_ids: frozenset[str] = frozenset()
    gold_uris: frozenset[str] = frozenset()
    answers: tuple[str, ...] = ()
    # Judged questions (the handbook set): what kind of question, the file holding its answer, tune or holdout.
    kind: QuestionKind = "answerable"
    file: str | None = None
    split: str = "tune"


@dataclass(frozen=True)
class Dataset:
    """``corpus`` is None when the questions are about the appliance's own index, unless ``corpus_folder``
    names files to index apart for them. ``answer_pool`` holds the questions whose answers may be scored."""

    name: str
    questions: list[Question]
    corpus: list[CorpusDocument] | None
    answer_kind: AnswerKind = "span"
    answer_pool: list[Question] = field(default_factory=list)
    corpus_folder: Path | None = None


BILINGUAL = {"bilingual-tune": "tune", "bilingual-holdout": "holdout"}
BUILT_IN = ("squad", "pubmedqa", "handbook", *BILINGUAL)


def load(name_or_path: str) -> Dataset:
    if name_or_path == "squad":
        return load_squad(SQUAD_FILE)
    if name_or_path == "pubmedqa":
        return load_pubmedqa(PUBMEDQA_FILE, PUBMEDQA_TEST_FILE)
    if name_or_path == "handbook":
        return load_handbook(HANDBOOK_FILE, SAMPLES)
    if name_or_path in BILINGUAL:
        return load_bilingual(BILINGUAL_FILE, BILINGUAL_FOLDER, BILINGUAL[name_or_path])
    path = Path(name_or_path)
    if not path.is_file():
        raise ConfigurationError(f"{name_or_path!r} is neither a built-in dataset ({', '.join(BUILT_IN)}) nor a JSONL file")
    return load_jsonl(path)


def _read_json(path: Path) -> object:
    if not path.is_file():
        raise ConfigurationError(f"{path} not found: the built-in datasets live in {SHARED_DATASETS} (see their SOURCE.md)")
    return json.loads(path.read_text(encoding="utf-8"))


def load_squad(path: Path) -> Dataset:
    """SQuAD v1.1 dev: one document per paragraph, id ``f"{title}#{paragraph_index}"``."""
    corpus, questions = [], []
    for article in _read_json(path)["data"]:
        title = article["title"]
        for index, paragraph in enumerate(article["paragraphs"]):
            external_id = f"{title}#{index}"
            corpus.append(CorpusDocument(external_id, title.replace("_", " "), paragraph["context"]))
            questions += [
                Question(qa["question"], gold_ids=frozenset({external_id}), answers=tuple(a["text"] for a in qa["answers"]))
                for qa in paragraph["qas"]
            ]
    return Dataset("squad", questions, corpus, "span", answer_pool=questions)


def load_pubmedqa(path: Path, test_path: Path) -> Dataset:
    """PubMedQA PQA-L: one document per abstract (its sections without the conclusion), id = PMID.

    The abstracts have no titles here; the question is the paper's title turned
    into a question, so using it as the document's title would hand retrieval the answer.
    Answers are scored on the official 500-question test split.
    """
    corpus, questions, by_pmid = [], [], {}
    for pmid, entry in _read_json(path).items():
        corpus.append(CorpusDocument(pmid, f"PMID {pmid}", "\n\n".join(entry["CONTEXTS"])))
        question = Question(entry["QUESTION"], gold_ids=frozenset({pmid}), answers=(entry["final_decision"],))
        questions.append(question)
        by_pmid[pmid] = question
    test = [by_pmid[pmid] for pmid in _read_json(test_path)]
    return Dataset("pubmedqa", questions, corpus, "yes_no_maybe", answer_pool=test)


def load_handbook(path: Path, folder: Path) -> Dataset:
    """The judged questions about the sample company's documents (``samples/``), indexed apart; how they were
    written is in tests/data/sample_questions.md. Retrieval is ranked for those whose answer is in one file."""
    judged = [
        Question(
            q["question"],
            gold_ids=frozenset({str((folder / q["file"]).resolve())}) if q["kind"] in ("answerable", "false_premise") else frozenset(),
            answers=tuple(q.get("answer_contains", ())),
            kind=q["kind"],
            file=q.get("file"),
            split=q["split"],
        )
        for q in _read_json(path)
    ]
    return Dataset("handbook", [q for q in judged if q.gold_ids], None, "judged", answer_pool=judged, corpus_folder=folder)


def load_bilingual(path: Path, folder: Path, split: str) -> Dataset:
    """One half (tune or holdout) of the German and English questions about a small German and English corpus
    (tests/data/bilingual/), indexed apart; how they were written is in tests/data/bilingual_questions.md."""
    questions = [
        Question(q["question"], gold_ids=frozenset({str((folder / q["file"]).resolve())}), file=q["file"], split=split)
        for q in _read_json(path)
        if q["split"] == split
    ]
    return Dataset(f"bilingual-{split}", questions, None, corpus_folder=folder)


def load_jsonl(path: Path) -> Dataset:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"{path}:{number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            raise ConfigurationError(f'{path}:{number}: each line needs a "question" string')
        gold_ids, gold_uris = _strings(record, "gold_ids", path, number), _strings(record, "gold_uris", path, number)
        if not gold_ids and not gold_uris:
            raise ConfigurationError(f'{path}:{number}: name the right documents in "gold_ids" or "gold_uris"')
        answers = _strings(record, "answers", path, number)
        questions.append(Question(record["question"], frozenset(gold_ids), frozenset(gold_uris), tuple(answers)))
    if not questions:
        raise ConfigurationError(f"{path} holds no questions")
    return Dataset(path.stem, questions, None, "span", answer_pool=[q for q in questions if q.answers])


def _strings(record: dict, key: str, path: Path, number: int) -> list[str]:
    values = record.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigurationError(f'{path}:{number}: "{key}" must be a list of strings')
    return values
