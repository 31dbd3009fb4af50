"""Enclave runs without internet: no template or asset may point at another site.

Every http:// or https:// in web/templates and web/static must sit in a comment or a
licence, or be one of the few listed below that browsers never fetch. The browser
side (every request a page makes goes to Enclave's own origin) is checked after each
browser test by ``make_context`` in conftest.py. Also: no inline script or event-handler
attribute anywhere, since the Content-Security-Policy forbids them; and every page script is an
ES module whose imports are files served beside it (no bare names, no other sites).
"""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
SCANNED = [WEB / "templates", WEB / "static"]
URL = re.compile(r"https?://[A-Za-z0-9.-]+[^\s\"'`<>)\\]*")  # a backslash ends it: an escaped quote follows
# Identifiers, not addresses: XML namespaces.
NAMESPACES = re.compile(r"^http://www\.w3\.org/(1999/xhtml|2000/svg|1998/Math/MathML)$")
# Vendored code, unchanged from upstream: where it names a URL, and why that loads nothing.
VENDORED = {
    "static/vendor/marked/marked.esm.js": {
        "https://github.com/markedjs/marked.": "text of an error message (\"Please report this to …\")",
    },
}
COMMENTS = [
    re.compile(r"/\*.*?\*/", re.S),  # CSS and JS block comments (and licence headers)
    re.compile(r"<!--.*?-->", re.S),  # HTML and SVG
    re.compile(r"\{#.*?#\}", re.S),  # Jinja
    re.compile(r"(?<![:\\\w])//[^\n]*"),  # JS line comments (not the // of a URL)
]


def _without_comments(text: str) -> str:
    for pattern in COMMENTS:
        text = pattern.sub(" ", text)
    return text


def _assets() -> list[Path]:
    files = []
    for root in SCANNED:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name.startswith("LICENSE") or path.name == "README.md":
                continue  # licences and the vendoring notes name their sources' homes; nothing loads them
            files.append(path)
    return files


def test_assets_exist_to_scan():
    names = {p.relative_to(WEB).as_posix() for p in _assets()}
    assert {"templates/base.html", "static/css/app.css", "static/js/chat.js",
            "static/vendor/marked/marked.esm.js", "static/vendor/dompurify/purify.es.mjs"} <= names


def test_no_template_or_asset_references_another_site():
    offending = []
    for path in _assets():
        relative = path.relative_to(WEB).as_posix()
        allowed = VENDORED.get(relative, {})
        for url in URL.findall(_without_comments(path.read_text(encoding="utf-8", errors="replace"))):
            if NAMESPACES.match(url) or url in allowed:
                continue
            offending.append(f"{relative}: {url}")
    assert offending == []


def test_vendored_exceptions_are_still_needed():
    for relative, urls in VENDORED.items():
        text = _without_comments((WEB / relative).read_text(encoding="utf-8"))
        for url in urls:
            assert url in text, f"{relative} no longer contains {url}; drop it from VENDORED"


def test_templates_have_no_inline_script_or_handlers():
    for path in sorted((WEB / "templates").rglob("*.html")):
        text = _without_comments(path.read_text(encoding="utf-8"))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline <script> in {path.name}"
        assert not re.search(r"<script(?![^>]*\btype=\"module\")[^>]*>", text), f"classic <script> in {path.name}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"event-handler attribute in {path.name}"
        assert not re.search(r"\sstyle\s*=", text), f"style attribute in {path.name}"
        assert "http://" not in text and "https://" not in text, path.name


def test_scripts_never_inject_html_strings():
    # Pages build DOM with common.js's el (text as text); only markdown.js turns HTML into nodes, via DOMPurify.
    for path in sorted((WEB / "static" / "js").glob("*.js")):
        text = _without_comments(path.read_text(encoding="utf-8"))
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, f"{path.name} uses {sink}"


# import "x"; import ... from "x"; export ... from "x" (module specifiers, not other strings)
IMPORT = re.compile(r"""^\s*(?:import\s+(?:[^;"']*?\bfrom\s*)?|export\s+[^;"']*?\bfrom\s*)["']([^"']+)["']""",
                    re.M)


def test_modules_import_only_files_served_beside_them():
    # A relative path resolves against the importing module's URL, so it stays under /static; the
    # browser needs no import map (which the Content-Security-Policy would have to allow inline).
    static = WEB / "static"
    modules = sorted((static / "js").glob("*.js"))
    seen = set()
    for module in modules:
        for specifier in IMPORT.findall(_without_comments(module.read_text(encoding="utf-8"))):
            assert specifier.startswith(("./", "../")), f"{module.name} imports {specifier!r}: not a relative path"
            target = (module.parent / specifier).resolve()
            assert target.is_file() and static in target.parents, f"{module.name} imports {specifier!r}: no such asset"
            seen.add(target)
    assert static / "js" / "common.js" in seen and static / "vendor" / "marked" / "marked.esm.js" in seen
