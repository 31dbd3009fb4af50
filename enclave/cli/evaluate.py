"""enclave eval DATASET: retrieval and answer quality on known questions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from assistant.errors import ConfigurationError

from ..evaluation import datasets, report, runner
from ..evaluation.progress import Tracker
from ..evaluation.scratch import scratch_settings
from ..runtime import Runtime
from .common import counting_progress, err, load_settings, out, runtime

ANSWER_SAMPLE = 200  # questions answered by default: a fixed sample of a public benchmark


def evaluate(
    dataset: str = typer.Argument(
        ...,
        help="squad or pubmedqa (public benchmarks, indexed apart), handbook (judged questions about samples/, "
        "indexed apart; always answered), bilingual-tune or bilingual-holdout (German and English questions about "
        "tests/data/bilingual/, indexed apart), or a JSONL file of questions about your index.",
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Search for a fixed sample of this many questions (default: all)."
    ),
    answers: bool = typer.Option(False, "--answers", help="Also have the LLM answer a fixed sample of questions, and score it."),
    answer_limit: int | None = typer.Option(
        None, "--answer-limit", min=1,
        help="How many questions --answers asks (a fixed sample, with each part of a judged set; "
        f"default {ANSWER_SAMPLE}, all of a judged set's).",
    ),  # fmt: skip
    model: str | None = typer.Option(None, "--model", help="Answer with this model instead of the default."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout instead of tables."),
    output: Path | None = typer.Option(
        None, "--output", help="Folder for the report's .json and .md files (default: benchmarks/results)."
    ),
) -> None:
    """Measure how often search puts the right document first (recall@1, recall@5, MRR@10 for keyword, dense and
    hybrid search) and, with --answers, how good the answers are and how long they take. For handbook: how many
    answers are right and cited, how many honest, and how many markers name no source, each part (tune, validation,
    holdout) apart.

    Example: enclave eval squad --limit 1000 --answers
    """
    chosen = datasets.load(dataset)
    answers = answers or chosen.answer_kind == "judged"  # judging the answers is what that set is for
    if answers and not chosen.answer_pool:
        raise ConfigurationError(f'--answers needs questions with "answers" to score; {dataset} has none')
    if chosen.corpus is None and chosen.corpus_folder is None:
        evaluating = runtime(model)
    else:  # a benchmark's own index, beside the appliance's
        evaluating = Runtime(scratch_settings(load_settings(), chosen.name), model=model, index_lock="exclusive")
    with _progress_bars() as track:
        every_judged = None if chosen.answer_kind == "judged" else ANSWER_SAMPLE  # its parts are reported apart
        result = runner.run(chosen, evaluating, limit, answer_limit or every_judged, answers, track)

    model_name = evaluating.llm().name if answers else None
    built = report.build(result, evaluating.settings, evaluating.embedder.name, model_name)
    json_path, markdown_path = report.write(built, output or datasets.REPOSITORY / "benchmarks" / "results")
    if as_json:
        print(json.dumps(built, indent=2, ensure_ascii=False))
    else:
        for table in report.tables(built):
            out.print(table)
    err.print(f"Written to {json_path} and {markdown_path}")


@contextmanager
def _progress_bars() -> Iterator[Tracker]:
    with counting_progress("items") as progress:

        def track(label: str, total: int) -> Callable[[int], None]:
            task = progress.add_task("", total=total, label=label)
            return lambda n: progress.advance(task, n)

        yield track
