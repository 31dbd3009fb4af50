"""Records as readable text: "Label: value" lines, and rich-text (HTML) fields as plain text."""

from __future__ import annotations

from collections.abc import Iterable

from bs4 import BeautifulSoup

# Elements that end a line when rendered; inline ones (<b>, <a>, <span>) flow within it.
_BLOCKS = ["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table", "ul", "ol"]


def html_to_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    for item in soup.find_all("li"):
        item.insert(0, "- ")
    for block in soup.find_all(_BLOCKS):
        block.append("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def labelled(pairs: Iterable[tuple[str, object]]) -> str:
    """One "Label: value" line per field that has a value."""
    return "\n".join(f"{label}: {value}" for label, value in pairs if value not in (None, ""))
