"""Results: one JSON file with every number and one markdown table per benchmark, in results/."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from . import machine

RESULTS = Path(__file__).resolve().parent / "results"


def write(name: str, title: str, data: dict, table: str, notes: Sequence[str] = ()) -> Path:
    """Write results/NAME.json and results/NAME.md; returns the markdown file."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    ran = {"measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine.describe()}
    (RESULTS / f"{name}.json").write_text(json.dumps({**ran, **data}, indent=2) + "\n")
    lines = [f"### {title}", "", f"Measured {ran['measured_at']} on {machine.one_line(ran['machine'])}.", "", table]
    lines += [""] + [f"- {note}" for note in notes] if notes else []
    markdown = RESULTS / f"{name}.md"
    markdown.write_text("\n".join(lines).rstrip() + "\n")
    print(markdown.read_text())
    return markdown


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def progress(message: str) -> None:
    """A line on stderr, so a long run shows where it is."""
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
