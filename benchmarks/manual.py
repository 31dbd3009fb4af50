"""Long manuals: does search find the right page of the 1,169-page PostgreSQL manual?

The questions (`benchmarks/data/postgres_questions.json`) are of three kinds: *plain* (the manual's own
terms), *paraphrased* (a user's words for a thing the manual names otherwise: "glue the values of many rows
into one string" for string_agg) and *hard* (a detail deep in a page, a default value, or two facts at once).
A third of the paraphrased and hard ones are held out: read neither when changing search nor when choosing
between changes; both parts are reported. For each question and search mode the first five distinct pages
found are compared with the pages that answer it: recall@1, recall@5 and MRR@10 per kind and part. Beside
keyword, dense and hybrid search, the two settings meant for manuals are measured: ``rank_by_document`` and
``expand_queries`` (the check model writing a passage to search with; about four minutes for the 100).

The manual is indexed once per chunking and embedding setting into the scratch folder and reused.
``--embedding-model`` and ``--chunk-size`` measure another shipped embedding model or chunk length (results in
results/manual-SETTINGS.md, beside the defaults').

    .venv/bin/python -m benchmarks.manual [--embedding-model multilingual-e5-small] [--chunk-size 500]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic import ValidationError

from assistant import embeddings
from assistant.access import Viewer
from assistant.config import Settings
from assistant.expansion import PassageWriter
from assistant.retrieval import MODES
from enclave.folders import ingest_paths
from enclave.runtime import Runtime

from . import environment, pgdocs, report

PAGES_READ = 10  # pages compared, for MRR@10
CHUNKS_SEARCHED = 40  # chunks asked for, enough to hold ten distinct pages
TARGET_TOP5 = 0.9
BY_DOCUMENT = "hybrid, rank_by_document"  # the settings meant for an index of manuals: this one,
EXPANDED = "hybrid, expand_queries"  # or this one


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--show-misses", action="store_true", help="List the tune questions that search ranked by document misses."
    )
    parser.add_argument("--embedding-model", help="A catalog embedding model to measure instead of the default.")
    parser.add_argument("--chunk-size", type=int, help="A chunk length in characters to measure instead of the default.")
    args = parser.parse_args(argv)
    chosen = {name: value for name, value in vars(args).items() if name != "show_misses" and value is not None}
    problem = _unusable(chosen)
    if problem:
        parser.error(problem)
    questions = pgdocs.questions()
    runtime = indexed_manual(chosen)
    viewer = Viewer(email="bench@enclave.local")
    retriever = runtime.assistant.retriever
    found = {}
    rankings = {**{mode: (mode, False, None) for mode in MODES}, BY_DOCUMENT: ("hybrid", True, None),
                EXPANDED: ("hybrid", False, PassageWriter(runtime.checker))}  # fmt: skip
    for ranking, (mode, by_document, expand) in rankings.items():
        retriever.rank_by_document, retriever.expand = by_document, expand
        report.progress(f"searching: {ranking}")
        found[ranking] = [pages_found(runtime, q["question"], viewer, mode) for q in questions]
    results = {mode: scores(questions, pages) for mode, pages in found.items()}
    if args.show_misses:
        for q, pages in zip(questions, found[BY_DOCUMENT]):
            if q["split"] == "tune" and not set(pages[:5]) & set(q["pages"]):
                print(f"MISS [{q['kind']}] {q['question']} want={q['pages']} got={pages[:5]}")
    write_results(results, len(questions), chosen)


def _unusable(chosen: dict) -> str | None:
    """Why the chosen settings cannot be measured, before anything is indexed; None when they can."""
    model = chosen.get("embedding_model")
    if model and model not in (embeddings.DEFAULT, embeddings.MULTILINGUAL) and not Path(model).is_dir():
        return f"--embedding-model {model}: neither {embeddings.DEFAULT}, {embeddings.MULTILINGUAL} nor a model's folder"
    try:
        Settings(**chosen)
    except ValidationError as error:
        return "; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in error.errors())
    return None


def indexed_manual(chosen: dict | None = None) -> Runtime:
    """A runtime over the whole manual, indexed into a scratch folder named after the settings that shape
    the index (reused while they stay the same); ``chosen`` settings replace the defaults."""
    chosen = dict(chosen or {})
    if "chunk_size" in chosen:  # the overlap keeps its share of the chunk
        defaults = Settings()
        chosen["chunk_overlap"] = chosen["chunk_size"] * defaults.chunk_overlap // defaults.chunk_size
    settings = Settings(**chosen)
    model = (settings.embedding_model or "all-MiniLM-L6-v2").replace("/", "_")
    name = f"manual-{model}-{settings.chunk_size}-{settings.chunk_overlap}"
    data_dir = environment.SCRATCH / name
    done = data_dir / "indexed"
    data_dir.mkdir(parents=True, exist_ok=True)
    environment.isolate(data_dir)
    runtime = Runtime(Settings(**chosen), index_lock="exclusive")
    if not done.exists():
        pages = pgdocs.manual_pages()
        report.progress(f"indexing {len(pages)} manual pages (once; about ten minutes on two cores)")
        ingest_paths(runtime.sink, [pgdocs.PAGES])
        done.touch()
    return runtime


def pages_found(runtime: Runtime, question: str, viewer: Viewer, mode: str) -> list[str]:
    """The first PAGES_READ distinct pages in the order search ranks their chunks."""
    hits = runtime.assistant.search(question, viewer, CHUNKS_SEARCHED, mode=mode)
    pages: list[str] = []
    for hit in hits:
        page = Path(unquote(urlparse(hit.origin.uri).path)).name
        if page not in pages:
            pages.append(page)
    return pages[:PAGES_READ]


def scores(questions: list[dict], found: list[list[str]]) -> dict:
    """recall@1, recall@5 and MRR@10 per (kind, part), per part and over all questions."""
    groups: dict[str, list[tuple[dict, list[str]]]] = {}
    for q, pages in zip(questions, found):
        for key in (f"{q['kind']} / {q['split']}", f"all / {q['split']}", "all"):
            groups.setdefault(key, []).append((q, pages))
    return {key: _measure(pairs) for key, pairs in sorted(groups.items())}


def _measure(pairs: list[tuple[dict, list[str]]]) -> dict:
    ranks = [next((i for i, page in enumerate(pages) if page in q["pages"]), None) for q, pages in pairs]
    return {
        "questions": len(pairs),
        "recall_at_1": sum(r == 0 for r in ranks) / len(ranks),
        "recall_at_5": sum(r is not None and r < 5 for r in ranks) / len(ranks),
        "mrr_at_10": sum(1 / (r + 1) for r in ranks if r is not None) / len(ranks),
    }


def write_results(results: dict, questions: int, chosen: dict) -> None:
    hybrid, by_document, expanded = results["hybrid"], results[BY_DOCUMENT], results[EXPANDED]
    rows = [
        (group, numbers["questions"], *(results[mode][group]["recall_at_5"] for mode in ("keyword", "dense", "hybrid")),
         numbers["recall_at_1"], by_document[group]["recall_at_5"], by_document[group]["recall_at_1"],
         by_document[group]["mrr_at_10"], expanded[group]["recall_at_5"], expanded[group]["recall_at_1"],
         expanded[group]["mrr_at_10"])
        for group, numbers in hybrid.items()
    ]  # fmt: skip
    table = report.table(
        ("questions (kind / part)", "n", "keyword top-5", "dense top-5", "hybrid top-5", "hybrid first",
         "by document top-5", "by document first", "by document MRR@10", "expanded top-5", "expanded first",
         "expanded MRR@10"),
        rows,
    )  # fmt: skip
    held_out = [g for g in by_document if g.endswith("/ holdout") and g.startswith("all")]
    met = {
        name: all(results[name][g]["recall_at_5"] >= TARGET_TOP5 for g in [*held_out, "all"])
        for name in (BY_DOCUMENT, EXPANDED)
    }
    changed = ", ".join(f"{name} {value}" for name, value in chosen.items())
    report.write(
        "-".join(["manual", *(str(value) for value in chosen.values())]),
        f"Long manual: the right page of the PostgreSQL manual, {questions} questions" + (f", {changed}" if changed else ""),
        {"results": results},
        table,
        [
            "Corpus: all 1,169 pages of the PostgreSQL 15 manual (Debian package postgresql-doc-15), default settings"
            + (f" but {changed}." if changed else "."),
            "A question counts as found when one of its pages is among the first five distinct pages search ranks.",
            "*By document*: hybrid search with `rank_by_document` on (a hit ranked with part of its document's "
            "other best matches); off by default.",
            "*Expanded*: hybrid search with `expand_queries` on (the check model writes the passage it expects the "
            "answer in, and search looks for the question with it, its meaning weighted above its words); off by "
            "default.",
            f"Goal: the right page in the top five for at least {TARGET_TOP5:.0%} (held out and overall): by "
            f"document {report.verdict(met[BY_DOCUMENT])}, expanded {report.verdict(met[EXPANDED])}.",
        ],
    )


if __name__ == "__main__":
    main()
