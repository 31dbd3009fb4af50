"""The ingest corpus: the PostgreSQL 15 HTML manual, from Debian's postgresql-doc-15 package.

`apt-get download` fetches the .deb into the scratch folder (no installation)
and `dpkg -x` unpacks it there; neither needs root. Later runs reuse both.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .environment import SCRATCH

PACKAGE = "postgresql-doc-15"
HOME = SCRATCH / "pgdoc"
PAGES = HOME / "root" / "usr/share/doc/postgresql-doc-15/html"
QUESTIONS = Path(__file__).resolve().parent / "data" / "postgres_questions.json"


def questions(kind: str | None = None) -> list[dict]:
    """The questions with known answer pages (`benchmarks/data/postgres_questions.md` says how they were
    written), all or those of one kind: the ingest and OCR benchmarks use the *plain* ones."""
    every = json.loads(QUESTIONS.read_text())
    return [q for q in every if kind is None or q["kind"] == kind]


def manual_pages() -> list[Path]:
    """Every HTML page of the manual, downloading and unpacking it first if needed."""
    if not PAGES.is_dir():
        HOME.mkdir(parents=True, exist_ok=True)
        debs = sorted(HOME.glob(f"{PACKAGE}_*.deb"))
        if not debs:
            if subprocess.run(["apt-get", "download", PACKAGE], cwd=HOME).returncode != 0:
                raise SystemExit(f"apt-get could not download {PACKAGE}; on a fresh machine run `sudo apt-get update` first")
            debs = sorted(HOME.glob(f"{PACKAGE}_*.deb"))
        subprocess.run(["dpkg", "-x", str(debs[-1]), str(HOME / "root")], check=True)
    return sorted(PAGES.glob("*.html"))


def selection(pages: list[Path], count: int | None, must_have: set[str]) -> list[Path]:
    """``count`` pages (all when None): the ``must_have`` names, then others spread evenly over the manual."""
    if count is None or count >= len(pages):
        return pages
    required = [p for p in pages if p.name in must_have]
    others = [p for p in pages if p.name not in must_have]
    wanted = max(0, count - len(required))
    step = len(others) / wanted if wanted else 1
    return sorted(required + [others[int(i * step)] for i in range(wanted)])


def copy_in_rounds(pages: list[Path], folder: Path, round_size: int) -> list[list[Path]]:
    """Copy ``pages`` into ``folder``, one subfolder per round of ``round_size`` pages; returns the copies."""
    rounds = []
    for start in range(0, len(pages), round_size):
        subfolder = folder / f"round-{start // round_size + 1:02d}"
        subfolder.mkdir(parents=True)
        for page in pages[start : start + round_size]:
            shutil.copy2(page, subfolder / page.name)
        rounds.append(sorted(subfolder.glob("*.html")))
    return rounds
