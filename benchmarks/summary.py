"""Gather the latest tables into results/summary.md and the README's Benchmarks section.

    .venv/bin/python -m benchmarks.summary
"""

from __future__ import annotations

import json
import re

from .environment import REPO
from .report import RESULTS

ORDER = ("query", "concurrency", "batching", "ingest", "manual", "footprint", "fairness", "ocr", "soak")
README = REPO / "README.md"
SECTIONS = ("benchmarks:results", "benchmarks:answers")


def main() -> None:
    tables = [(RESULTS / f"{name}.md").read_text() for name in ORDER if (RESULTS / f"{name}.md").exists()]
    summary = "\n".join(tables)
    (RESULTS / "summary.md").write_text(summary)
    readme = README.read_text()
    for name, text in zip(SECTIONS, (summary, answers_by_model())):
        section = re.compile(rf"(<!-- {name} -->\n).*?(<!-- /{name} -->)", re.S)
        if not section.search(readme):
            raise SystemExit(f"README.md lacks the <!-- {name} --> section")
        readme = section.sub(lambda m: m.group(1) + text + m.group(2), readme)
    README.write_text(readme)
    print(f"Wrote {RESULTS / 'summary.md'} and the README's Benchmarks and Answer quality sections.")


def answers_by_model() -> str:
    """The judged handbook answers of each model measured (`enclave eval handbook --model NAME`), side by side."""
    rows = []
    for path in sorted(RESULTS.glob("eval-handbook-answers-*.json")):
        report = json.loads(path.read_text())
        answers, latency = report["answers"], report["answers"]["latency_s"]
        rows.append(
            f"| {report['settings']['model']} | {_by_part(answers, 'right_and_cited')} | {_by_part(answers, 'honest')} "
            f"| {answers['all']['dangling_markers']} "
            f"| {latency['first_token_p50']:.1f} s | {latency['total_p50']:.1f} s / {latency['total_p95']:.1f} s |"
        )
    header = [
        "| model | right and cited (tune / validation / holdout) | honest (tune / validation / holdout) "
        "| markers naming no source | first token p50 | per answer p50 / p95 |",
        "|---|---|---|---|---|---|",
    ]
    details = [(path.read_text().split("\n\n", 2)[-1]) for path in sorted(RESULTS.glob("eval-handbook-answers-*.md"))]
    return "\n".join(header + rows) + "\n\n" + "\n".join(details)


def _by_part(answers: dict, measure: str) -> str:
    """A measure for each part of the judged set; "–" for a part that run did not have (older runs had no
    validation part)."""
    parts = answers["splits"]
    return " / ".join(f"{parts[p][measure]:.2f}" if p in parts else "–" for p in ("tune", "validation", "holdout"))


if __name__ == "__main__":
    main()
