"""Gather the latest tables into results/summary.md and the README's Benchmarks section.

    .venv/bin/python -m benchmarks.summary
"""

from __future__ import annotations

import re

from .environment import REPO
from .report import RESULTS

ORDER = ("query", "concurrency", "ingest", "footprint")
README = REPO / "README.md"
SECTION = re.compile(r"(<!-- benchmarks:results -->\n).*?(<!-- /benchmarks:results -->)", re.S)


def main() -> None:
    tables = [(RESULTS / f"{name}.md").read_text() for name in ORDER if (RESULTS / f"{name}.md").exists()]
    summary = "\n".join(tables)
    (RESULTS / "summary.md").write_text(summary)
    readme = README.read_text()
    if not SECTION.search(readme):
        raise SystemExit("README.md lacks the <!-- benchmarks:results --> section")
    README.write_text(SECTION.sub(lambda m: m.group(1) + summary + m.group(2), readme))
    print(f"Wrote {RESULTS / 'summary.md'} and the README's Benchmarks section ({len(tables)} tables).")


if __name__ == "__main__":
    main()
