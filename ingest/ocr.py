"""Optical character recognition: text from images and scanned pages, with Tesseract.

Tesseract is a system package (Debian's ``tesseract-ocr`` and one
``tesseract-ocr-LANG`` per language); pytesseract runs it on each image. Its
word boxes are read rather than its plain text, so each page also gets a
confidence (the mean of its words'), which tells an admin how far to trust it.
Nothing here reaches the network: the language data lives on disk.
"""

from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .reading import ReadPage

log = logging.getLogger("enclave.ocr")

PAGE_TIMEOUT_SECONDS = 120  # a page Tesseract cannot finish in this long is skipped with a warning
IMAGE_FORMATS = {"png", "jpeg", "tiff", "bmp", "gif", "webp"}


@dataclass(frozen=True)
class OcrOptions:
    """Whether to read images and scanned pages, and in which languages (Tesseract's ``eng+deu`` form)."""

    enabled: bool = True
    languages: str = "eng"


@dataclass(frozen=True)
class Recognized:
    text: str
    confidence: float | None  # mean word confidence, 0-100; None when no word was found


class OcrUnavailable(Exception):
    """Tesseract, or a language it was asked for, is not installed; the message says what to install."""


def recognize(image, languages: str) -> Recognized:
    """The text in ``image`` (a Pillow image), paragraphs apart, and Tesseract's confidence in it."""
    import pytesseract

    _one_thread_each(pytesseract)
    _check_languages(languages)
    started = time.monotonic()
    try:
        words = pytesseract.image_to_data(
            image.convert("L"), lang=languages, output_type=pytesseract.Output.DICT, timeout=PAGE_TIMEOUT_SECONDS
        )
    except RuntimeError as error:  # pytesseract's word for its timeout
        raise OcrUnavailable(f"OCR gave up after {PAGE_TIMEOUT_SECONDS} s") from error
    recognized = _assemble(words)
    log.info("OCR read %d characters in %.1f s (confidence %s)", len(recognized.text), time.monotonic() - started,
             "none" if recognized.confidence is None else f"{recognized.confidence:.0f}")  # fmt: skip
    return recognized


def _one_thread_each(pytesseract) -> None:
    """Run Tesseract on one thread. Its OpenMP threads made a page take twice as long on a busy 2-core box
    (19 s against 9 s), and the embedder and the LLM want the cores anyway. pytesseract hands its module's
    ``environ`` to Tesseract; setting the variable in Enclave's own environment instead would also cap
    PyTorch's OpenMP threads, had it not started yet."""
    module = pytesseract.pytesseract
    if module.environ is os.environ:
        module.environ = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _check_languages(languages: str) -> None:
    import pytesseract

    try:
        installed = set(pytesseract.get_languages())
    except pytesseract.TesseractNotFoundError as error:
        raise OcrUnavailable("Tesseract is not installed (apt-get install tesseract-ocr)") from error
    missing = [language for language in languages.split("+") if language not in installed]
    if missing:
        packages = " ".join(f"tesseract-ocr-{language}" for language in missing)
        raise OcrUnavailable(f"OCR language {', '.join(missing)} is not installed (apt-get install {packages})")


def _assemble(words: dict) -> Recognized:
    """Tesseract's words put back into lines and paragraphs; its confidence of -1 marks a box with no word."""
    paragraphs: dict[tuple[int, int], dict[int, list[str]]] = {}
    confidences = []
    for text, confidence, block, paragraph, line in zip(
        words["text"], words["conf"], words["block_num"], words["par_num"], words["line_num"]
    ):
        if not text.strip() or float(confidence) < 0:
            continue
        paragraphs.setdefault((block, paragraph), {}).setdefault(line, []).append(text.strip())
        confidences.append(float(confidence))
    text = "\n\n".join("\n".join(" ".join(line) for line in lines.values()) for lines in paragraphs.values())
    return Recognized(text, sum(confidences) / len(confidences) if confidences else None)


def read_image(content: bytes, options: OcrOptions) -> list[ReadPage]:
    """An image file's text, one page per frame of a multi-page TIFF (the first frame of anything else)."""
    if not options.enabled:
        raise OcrUnavailable("OCR is off (ocr = false), and an image has no text without it")
    pages = []
    for number, frame in enumerate(_frames(content), start=1):
        try:
            found = recognize(frame, options.languages)
        except OcrUnavailable as error:
            if number == 1:
                raise  # the same for every frame: say so once, as the document's reason
            pages.append(ReadPage(number, method="none", warning=str(error)))
            continue
        pages.append(ReadPage(number, found.text, "ocr", found.confidence))
    return pages


def _frames(content: bytes) -> Iterator:
    from PIL import Image, ImageSequence

    image = Image.open(io.BytesIO(content))
    if (image.format or "").lower() not in IMAGE_FORMATS:
        raise ValueError(f"not a supported image ({image.format or 'unknown format'})")
    if image.format != "TIFF":
        yield image
        return
    for frame in ImageSequence.Iterator(image):
        yield frame.copy()
