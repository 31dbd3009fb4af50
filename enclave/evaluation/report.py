"""An evaluation's result as JSON (everything, for machines and later comparison) and as tables
(for people: markdown in the results folder and the README, rich in the terminal)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.table import Table

from assistant.config import Settings

from .ranking import MODES
from .runner import Result

# What shapes the numbers: the index (chunking, embeddings), retrieval, and how answers are made.
RETRIEVAL_SETTINGS = ("chunk_size", "chunk_overlap", "top_k", "reranker_model")
ANSWER_SETTINGS = (
    "context_size", "source_tokens", "evidence_sentences", "answer_check", "check_model", "max_answer_tokens",
    "temperature", "min_relevance", "relevance_margin",
)  # fmt: skip


JUDGED_KINDS = ("answerable", "false_premise", "look_answerable", "unanswerable")


@dataclass(frozen=True)
class Section:
    title: str
    headers: list[str]
    rows: list[list[str]]


def build(result: Result, settings: Settings, embedding_model: str, model: str | None) -> dict:
    names = RETRIEVAL_SETTINGS + (ANSWER_SETTINGS if result.answers is not None else ())
    used = {name: getattr(settings, name) for name in names}
    used = {k: str(v) if isinstance(v, Path) else v for k, v in used.items()}  # a reranker's folder
    used = {"embedding_model": embedding_model, **used}
    if result.answers is not None:
        used["model"] = model
    return {**asdict(result), "settings": used}


def file_stem(report: dict) -> str:
    stem = f"eval-{report['dataset']}"
    return f"{stem}-answers-{report['settings']['model']}" if report["answers"] is not None else stem


def write(report: dict, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(report)
    as_json, as_markdown = folder / f"{stem}.json", folder / f"{stem}.md"
    as_json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    as_markdown.write_text(markdown(report), encoding="utf-8")
    return as_json, as_markdown


def sections(report: dict) -> list[Section]:
    used = report["settings"]
    found = [
        Section(
            f"Retrieval: {report['dataset']}, {report['questions']:,} questions over {report['documents']:,} documents "
            f"({used['embedding_model']}, chunks of {used['chunk_size']} characters overlapping by {used['chunk_overlap']})",
            ["search", "recall@1", "recall@5", "MRR@10"],
            [
                [mode, *(f"{report['retrieval'][mode][m]:.3f}" for m in ("recall@1", "recall@5", "mrr@10"))]
                for mode in MODES
            ],
        )
    ]
    answers = report["answers"]
    if answers is not None and "splits" in answers:
        found.append(_judged_section(report))
    elif answers is not None:
        latency = answers["latency_s"]
        if "f1" in answers:
            headers, scores = ["exact match", "F1"], [f"{answers['exact_match']:.3f}", f"{answers['f1']:.3f}"]
        else:
            headers = ["accuracy", "macro-F1", "no yes/no/maybe"]
            scores = [f"{answers['accuracy']:.3f}", f"{answers['macro_f1']:.3f}", str(answers["unreadable"])]
        found.append(
            Section(
                f"Answers: {used['model']}, {answers['questions']} questions "
                f"(top_k {used['top_k']}, context {used['context_size']} tokens)",
                [*headers, "found nothing", "first token p50 / p95", "total p50 / p95"],
                [[*scores, str(answers["found_nothing"]), _seconds(latency, "first_token"), _seconds(latency, "total")]],
            )
        )
    return found


def _judged_section(report: dict) -> Section:
    answers, used = report["answers"], report["settings"]
    rows = []
    for name, part in [*answers["splits"].items(), ("all", answers["all"])]:
        kinds = part["by_kind"]
        rows.append([
            name, str(part["questions"]), _share(part["right_and_cited"]), _share(part["honest"]),
            *(_share(kinds.get(kind, {}).get("right")) for kind in JUDGED_KINDS), str(part["dangling_markers"]),
        ])  # fmt: skip
    latency = answers["latency_s"]
    rows[-1] += [_seconds(latency, "first_token"), _seconds(latency, "total")]
    for row in rows[:-1]:
        row += ["", ""]
    return Section(
        f"Judged answers: {used['model']}, {answers['questions']} questions about samples/ "
        f"(answer check {_check(used)}, top_k {used['top_k']})",
        ["part", "questions", "right and cited", "honest", *JUDGED_KINDS, "markers naming no source",
         "first token p50 / p95", "total p50 / p95"],
        rows,
    )  # fmt: skip


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _seconds(latency: dict, name: str) -> str:
    p50, p95 = latency[f"{name}_p50"], latency[f"{name}_p95"]
    return "–" if p50 is None else f"{p50:.1f} s / {p95:.1f} s"


def markdown(report: dict) -> str:
    lines = []
    for section in sections(report):
        lines += [f"**{section.title}**", "", "| " + " | ".join(section.headers) + " |"]
        lines += ["|" + "---|" * len(section.headers)]
        lines += ["| " + " | ".join(row) + " |" for row in section.rows]
        lines.append("")
    return "\n".join(lines)


def tables(report: dict) -> list[Table]:
    found = []
    for section in sections(report):
        table = Table(*section.headers, title=section.title, title_justify="left")
        for row in section.rows:
            table.add_row(*row)
        found.append(table)
    return found


def _check(used: dict) -> str:
    """How answers were checked: "facts", or "facts+model" with the model that confirmed them."""
    if used["answer_check"] != "facts+model":
        return used["answer_check"]
    return f"facts+model by {used.get('check_model') or used['model']}"
