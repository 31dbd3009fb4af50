"""OCR: how fast Enclave reads scanned pages, and what reading them is worth to retrieval.

Thirty pages of the PostgreSQL manual (the pages the ingest benchmark's questions
are about) are typeset as A4 pages and "scanned": drawn at 200 dpi, turned by a
fraction of a degree, blurred and speckled, and wrapped as image-only PDFs of three
pages each. Each page gets one question made from one of its own sentences (its
content words, in order: a look-up of something that page says). Reported: OCR
pages per second (rendering and Tesseract, no embedding), OCR's confidence and
its character accuracy against the typeset text, and recall@5 of the page (the
right document and page among the first five hits) for the same pages indexed
three ways: as scans with OCR, as scans without OCR, and as born-digital PDFs of
the same text (what OCR at its best would give).

    .venv/bin/python -m benchmarks.ocr [--pages 30]
"""

from __future__ import annotations

import argparse
import difflib
import os
import random
import re
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.access import Viewer
from assistant.config import Settings
from enclave.folders import ingest_paths
from enclave.runtime import Runtime
from ingest.ocr import OcrOptions
from ingest.parse import read

from . import environment, pgdocs, report

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DPI = 200
A4 = (round(8.27 * DPI), round(11.69 * DPI))
FONT_PX = round(11 / 72 * DPI)  # 11 pt
LINES_PER_PAGE = 44
PAGES_PER_DOCUMENT = 3
SEED = 7
STOP_WORDS = set(
    "a an and are as at be by can for from has have if in into is it its of on or that the their then there these "
    "this to was were when which will with you your not no do does also may must should than such they each any".split()
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=30, help="Scanned pages to make (a multiple of 3).")
    args = parser.parse_args(argv)

    pages = page_texts(args.pages)
    questions = make_questions(pages)
    scans, typeset = environment.fresh_dir("ocr-scans"), environment.fresh_dir("ocr-typeset")
    write_documents(pages, scans, typeset)

    report.progress(f"OCR of {len(pages)} scanned pages")
    speed = ocr_speed(scans, pages)
    results = {}
    for name, folder, ocr in (("scans with OCR", scans, True), ("scans without OCR", scans, False),
                              ("born-digital text", typeset, True)):  # fmt: skip
        report.progress(f"indexing and searching: {name}")
        results[name] = recall(folder, ocr, questions)
    write_report(len(pages), speed, results)


def page_texts(count: int) -> list[list[str]]:
    """The first lines of ``count`` manual pages (the questions' pages first), wrapped as on paper."""
    from bs4 import BeautifulSoup

    wanted = [page for q in pgdocs.questions("plain") for page in q["pages"]]
    manual = {path.name: path for path in pgdocs.manual_pages()}
    names = list(dict.fromkeys(wanted + sorted(manual)))
    texts = []
    for name in names:
        soup = BeautifulSoup(manual[name].read_text(encoding="utf-8"), "html.parser")
        for navigation in soup.select(".navheader, .navfooter"):
            navigation.decompose()
        words = " ".join(soup.get_text(" ").split())
        lines = textwrap.wrap(words, 80)[:LINES_PER_PAGE]
        if len(lines) == LINES_PER_PAGE:  # a full page each
            texts.append(lines)
        if len(texts) == count:
            return texts
    raise SystemExit(f"the manual has fewer than {count} pages long enough")


def make_questions(pages: list[list[str]]) -> list[dict]:
    """One question per page: the content words of one of its sentences (10 to 30 words long), in order."""
    chooser = random.Random(SEED)
    questions = []
    for number, lines in enumerate(pages):
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(lines)) if 10 <= len(s.split()) <= 30]
        sentence = chooser.choice(sentences or [" ".join(lines[10:13])])
        words = [w for w in re.findall(r"[A-Za-z0-9_]+", sentence) if w.lower() not in STOP_WORDS]
        document, page = divmod(number, PAGES_PER_DOCUMENT)
        questions.append(
            {"question": " ".join(words[:10]), "document": f"manual-{document + 1:02d}.pdf", "page": page + 1}
        )
    return questions


def write_documents(pages: list[list[str]], scans: Path, typeset: Path) -> None:
    from fpdf import FPDF

    for start in range(0, len(pages), PAGES_PER_DOCUMENT):
        name = f"manual-{start // PAGES_PER_DOCUMENT + 1:02d}.pdf"
        images = [scanned(lines, seed=start + n) for n, lines in enumerate(pages[start : start + PAGES_PER_DOCUMENT])]
        images[0].save(scans / name, "PDF", save_all=True, append_images=images[1:], resolution=DPI)
        pdf = FPDF(format="A4")
        pdf.add_font("dejavu", fname=FONT)
        pdf.set_font("dejavu", size=11)
        for lines in pages[start : start + PAGES_PER_DOCUMENT]:
            pdf.add_page()
            pdf.multi_cell(0, 5.5, "\n".join(lines))
        pdf.output(str(typeset / name))


def scanned(lines: list[str], seed: int):
    """A page as a scanner gives it back: slightly turned, soft and speckled."""
    import numpy
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype(FONT, FONT_PX)
    page = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(lines):
        draw.text((DPI, DPI + number * round(FONT_PX * 1.45)), line, font=font, fill=0)
    noise = random.Random(seed)
    page = page.rotate(noise.uniform(-0.6, 0.6), fillcolor=255, resample=Image.BICUBIC).filter(
        ImageFilter.GaussianBlur(0.7)
    )
    pixels = numpy.asarray(page, dtype=numpy.float32)
    pixels += numpy.random.default_rng(seed).normal(0, 14, pixels.shape)
    return Image.fromarray(numpy.clip(pixels, 0, 255).astype(numpy.uint8)).convert("RGB")


def ocr_speed(scans: Path, pages: list[list[str]]) -> dict:
    read_pages, seconds, confidences, accuracy = [], 0.0, [], []
    for path in sorted(scans.glob("*.pdf")):
        started = time.perf_counter()
        found = read(path.read_bytes(), path.name, ocr=OcrOptions())
        seconds += time.perf_counter() - started
        read_pages += [s.text for s in found.sections]
        confidences.append(found.report["ocr_confidence"])
    for text, lines in zip(read_pages, pages):
        accuracy.append(difflib.SequenceMatcher(None, " ".join(text.split()), " ".join(lines)).ratio())
    return {
        "pages": len(pages),
        "seconds": seconds,
        "pages_per_second": len(pages) / seconds,
        "mean_confidence": sum(confidences) / len(confidences),
        "character_accuracy": sum(accuracy) / len(accuracy),
    }


def recall(folder: Path, ocr: bool, questions: list[dict]) -> dict:
    """Index ``folder`` in a fresh data folder and ask every question; recall@5 of the right page."""
    environment.isolate(environment.fresh_dir(f"ocr-index-{folder.name}-{ocr}"))
    os.environ["ENCLAVE_OCR"] = "true" if ocr else "false"
    runtime = Runtime(Settings())
    summary = ingest_paths(runtime.sink, [folder])
    found, missed = 0, []
    for q in questions:
        hits = runtime.assistant.search(q["question"], Viewer.operator(), 5)
        if any((h.origin.title, h.page) == (q["document"], q["page"]) for h in hits):
            found += 1
        else:
            missed.append(q["question"])
    return {"indexed": len(summary.added), "failed": len(summary.failed), "chunks": summary.chunks_written,
            "recall_at_5": found / len(questions), "missed": missed}  # fmt: skip


def write_report(pages: int, speed: dict, results: dict) -> None:
    rows = [(name, r["indexed"], r["failed"], r["chunks"], r["recall_at_5"]) for name, r in results.items()]
    table = report.table(
        ["the same pages, indexed as", "documents indexed", "failed", "chunks", "recall@5 (page)"], rows
    )
    speed_table = report.table(
        ["OCR", "value"],
        [
            ("pages per second (render + Tesseract)", speed["pages_per_second"]),
            ("seconds per page", speed["seconds"] / speed["pages"]),
            ("mean word confidence", speed["mean_confidence"]),
            ("character accuracy vs the typeset text", speed["character_accuracy"]),
        ],
    )
    notes = [
        f"Corpus: {pages} pages of the PostgreSQL 15 manual (the ingest benchmark's question pages first), "
        f"{LINES_PER_PAGE} lines of DejaVu Sans 11 pt each, drawn at {DPI} dpi, turned by up to 0.6°, blurred and "
        f"speckled, as image-only PDFs of {PAGES_PER_DOCUMENT} pages; Tesseract `eng`, pages rendered at 300 dpi.",
        f"Questions: one per page, made by the benchmark from one sentence of that page (10 to 30 words, chosen "
        f"with seed {SEED}): its first ten content words, stop words left out. A hit counts when it is the right "
        "document at the right page.",
        "Character accuracy: difflib's similarity ratio of the OCR text to the text drawn, whitespace collapsed.",
    ]
    report.write("ocr", "OCR: scanned pages", {"ocr": speed, "recall": results}, speed_table + "\n\n" + table, notes)


if __name__ == "__main__":
    main()
