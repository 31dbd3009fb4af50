"""The `enclave` command as people and scripts use it: real subprocesses of .venv/bin/enclave.

Each run imports torch, Chroma and unstructured (about ten seconds), so the
index is built once per module and shared. Failure modes covered: wrong exit
codes (0 all indexed, 1 some failed, 2 usage or configuration error); an ingest
that shows no files done / total, rate or time left on a terminal; a failed
file listed without its reason; an unreadable file not reported; `search
--json` and `ask --json` printing anything but their JSON on stdout; `chat`
losing the thread after the first answer; `status` hiding failures; `config`
getting the precedence of env, enclave.toml and defaults wrong or showing a
secret; `models add` accepting a file that is not GGUF; `models use` not
changing the default.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_enclave
from tests.test_answers import FACT, FACT_FILE, QUESTION, write_facilities_docx

CORRUPT_PDF = b"%PDF-1.5\n%\xb5\xed\xae\xfb\n3 0 obj\n<< /Length 4 0 R /Filter /FlateDecode >>\nstream\nx\x9c\xff\xfe"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, documents) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "docs"
    documents(folder, ["txt", "md", "html", "pdf"])
    write_facilities_docx(folder / FACT_FILE)
    return folder


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, corpus):
    """(data dir, result of `enclave ingest CORPUS`): the index the query commands below share."""
    data_dir = tmp_path_factory.mktemp("cli-data")
    return data_dir, run_enclave("ingest", str(corpus), data_dir=data_dir)


def test_ingest_exits_0_when_every_file_is_indexed_and_skips_them_next_time(cli, indexed, corpus):
    data_dir, first = indexed

    again = cli("ingest", str(corpus), "--prune", data_dir=data_dir)

    assert first.returncode == 0, first.stderr
    assert "Added 5, updated 0, unchanged 0, failed 0 file(s)" in first.stdout
    assert "Failed" not in first.stdout
    assert again.returncode == 0, again.stderr
    assert "Added 0, updated 0, unchanged 5, failed 0 file(s); 0 chunk(s) written." in again.stdout
    assert "Pruned 0 document(s) whose files are gone." in again.stdout


def test_ingest_on_a_terminal_shows_files_done_of_total_their_rate_and_the_time_left(cli, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    for n in range(4):
        (folder / f"note-{n}.txt").write_text(f"Note {n}: the quarterly review covers topic {n} in depth.\n")

    result = cli("ingest", str(folder), data_dir=tmp_path / "data", env={"TTY_COMPATIBLE": "1", "COLUMNS": "200"})

    assert result.returncode == 0, result.stderr
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stderr)
    assert re.search(r"Ingesting .*4/4 +\d+\.\d files/s +\d:\d\d:\d\d elapsed, +\d:\d\d:\d\d left", screen), screen


def _unreadable_prefix() -> tuple[str, ...]:
    """How to run the CLI so that a chmod 000 file really cannot be read.

    Root reads any file regardless of its mode, through the capabilities
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. Running the CLI as ``nobody``
    is not possible here: the virtualenv's interpreter lives under /root
    (pyenv), which nobody cannot enter. So, as root, the CLI runs as root
    still but with those two capabilities dropped from its bounding set
    (util-linux ``setpriv``): the kernel then applies the file's mode bits to
    it like to anyone else, and the read fails with EACCES, exactly what an
    unprivileged service user meets. As a normal user nothing is needed.
    """
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without util-linux setpriv: cannot make a file unreadable to the CLI")
    caps = "-dac_override,-dac_read_search"
    return ("setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}")


def test_ingest_exits_1_and_lists_each_failure_with_its_reason(cli, tmp_path, documents):
    folder = tmp_path / "docs"
    documents(folder, ["txt", "csv"])
    (folder / "corrupt.pdf").write_bytes(CORRUPT_PDF)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 16)
    locked = folder / "locked.md"
    locked.write_text("# Salaries\n\nNobody may read this.\n")
    locked.chmod(0)
    data_dir = tmp_path / "data"

    result = cli("ingest", str(folder), data_dir=data_dir, prefix=_unreadable_prefix())

    assert result.returncode == 1, result.stderr
    assert "Added 2, updated 0, unchanged 0, failed 4 file(s)" in result.stdout
    # Each failure on its own line: "  PATH: REASON".
    failed = dict(line.strip().split(": ", 1) for line in result.stdout.splitlines() if line.startswith(f"  {folder}"))
    assert set(failed) == {str(folder / name) for name in ("binary.txt", "corrupt.pdf", "empty.txt", "locked.md")}
    assert failed[str(folder / "binary.txt")] == "binary content in a text file (NUL bytes); is the extension wrong?"
    assert failed[str(folder / "corrupt.pdf")].startswith("could not read this pdf file: ")
    assert failed[str(folder / "empty.txt")] == "empty file: there is no text to index"
    assert failed[str(locked)] == "permission denied: Enclave's user cannot read this file"

    # `enclave status` shows what is indexed and what failed, with the reasons.
    status = cli("status", data_dir=data_dir)
    assert status.returncode == 0, status.stderr
    assert "Documents: 2" in status.stdout and "files: 2 document(s)" in status.stdout
    assert "4 item(s) failed to index" in status.stdout
    assert f"files: {locked}: permission denied" in status.stdout
    assert "qwen2.5-coder-0.5b-instruct (default): ready" in status.stdout


def test_usage_and_configuration_errors_exit_2(cli, tmp_path):
    no_paths = cli("ingest", data_dir=tmp_path / "data")
    bad_setting = cli("ingest", str(tmp_path), data_dir=tmp_path / "data", env={"ENCLAVE_TOP_K": "0"})

    assert no_paths.returncode == 2
    assert "Missing argument" in no_paths.stderr and "enclave ingest --help" in no_paths.stderr
    assert bad_setting.returncode == 2
    assert "invalid configuration (top_k: Input should be greater than or equal to 1)" in bad_setting.stderr
    assert "Traceback" not in bad_setting.stderr
    assert not (tmp_path / "data" / "chroma").exists()


def test_search_json(cli, indexed, corpus):
    data_dir, _ = indexed

    result = cli("search", "access code of the server room", "--json", "--k", "3", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert [h["n"] for h in hits] == [1, 2, 3]
    assert hits[0]["title"] == FACT_FILE and hits[0]["uri"] == (corpus / FACT_FILE).as_uri()
    assert FACT in hits[0]["snippet"]
    assert all({"id", "chunk_id", "title", "uri", "snippet", "score", "source_type"} <= set(h) for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


@pytest.mark.llm
def test_ask_json_prints_exactly_one_json_object(cli, indexed, corpus):
    data_dir, _ = indexed

    result = cli("ask", QUESTION, "--json", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)  # the whole of stdout: one object and nothing else
    assert set(answer) == {"answer", "sources"}
    assert FACT in answer["answer"]
    first = answer["sources"][0]
    assert {"id", "title", "uri", "snippet", "score"} <= set(first)
    assert first["title"] == FACT_FILE and first["uri"] == (corpus / FACT_FILE).as_uri()
    assert isinstance(first["score"], float) and FACT in first["snippet"]


@pytest.mark.llm
def test_chat_answers_a_follow_up_question(cli, indexed):
    data_dir, _ = indexed
    conversation = f"{QUESTION}\nAnd when does the parking garage close?\nexit\n"

    result = cli("chat", data_dir=data_dir, input=conversation)

    assert result.returncode == 0, result.stderr
    replies = result.stdout.split("Enclave: ")[1:]
    assert len(replies) == 2, result.stdout
    first, second = replies
    assert FACT in first and f"] {FACT_FILE} — " in first
    assert "22:00" in second and "] sample.txt — " in second
    assert result.stdout.rstrip().endswith("You:")  # it asked for a third question, then read `exit`


def test_config_shows_env_over_toml_over_defaults(cli, tmp_path):
    (tmp_path / "enclave.toml").write_text(
        'top_k = 7\nchunk_size = 600\ntemperature = 0.3\nllm_api_key = "sk-from-toml"\n'
    )
    other = tmp_path / "other.toml"
    other.write_text("top_k = 3\n")

    from_cwd = cli(
        "config",
        data_dir=tmp_path / "data",
        cwd=tmp_path,
        # Only these variables: the fixture's own ENCLAVE_TEMPERATURE would hide the TOML's value.
        env={"ENCLAVE_CONFIG": None, "ENCLAVE_TEMPERATURE": None, "ENCLAVE_TOP_K": "9", "ENCLAVE_CHUNK_OVERLAP": "50"},
    )
    from_env_path = cli("config", data_dir=tmp_path / "data", env={"ENCLAVE_CONFIG": str(other)})

    assert from_cwd.returncode == 0 and from_env_path.returncode == 0, from_cwd.stderr + from_env_path.stderr
    header, _, body = from_cwd.stdout.partition("\n")
    assert header == "# from ENCLAVE_* variables, enclave.toml (found) and defaults"
    values = json.loads(body)
    assert values["top_k"] == 9  # env beats toml
    assert values["chunk_size"] == 600 and values["temperature"] == 0.3  # toml beats defaults
    assert values["chunk_overlap"] == 50  # env beats defaults
    assert values["min_relevance"] == 0.12 and values["collection"] == "enclave"  # defaults
    assert values["data_dir"] == str(tmp_path / "data")
    assert values["llm_api_key"] == "********" and "sk-from-toml" not in from_cwd.stdout
    other_values = json.loads(from_env_path.stdout.partition("\n")[2])
    assert other_values["top_k"] == 3 and other_values["chunk_size"] == 1000
    assert from_env_path.stdout.startswith(f"# from ENCLAVE_* variables, {other} (found)")


def _model_rows(stdout: str) -> dict[str, str]:
    """name -> its table row, from `enclave models list`."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃|").split("│")]
        if len(cells) == 5 and cells[1] not in ("", "name"):
            rows[cells[1]] = line
    return rows


def test_models_list_add_use(cli, tmp_path):
    models_dir = tmp_path / "models"
    env = {"ENCLAVE_MODELS_DIR": str(models_dir)}
    fake = tmp_path / "tiny.gguf"
    fake.write_bytes(b"GGUF" + bytes(1024))
    not_gguf = tmp_path / "weights.bin"
    not_gguf.write_bytes(b"PK\x03\x04 not a model")

    def enclave(*args):
        return cli(*args, data_dir=tmp_path / "data", env=env)

    before = enclave("models", "list")
    added = enclave("models", "add", str(fake), "--name", "tiny")
    refused = enclave("models", "add", str(not_gguf), "--name", "bad")
    unknown = enclave("models", "use", "no-such-model")
    used = enclave("models", "use", "tiny")
    after = enclave("models", "list")

    assert before.returncode == 0, before.stderr
    rows = _model_rows(before.stdout)
    assert {"qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "gemma-3-270m"} <= set(rows)
    assert rows["qwen2.5-coder-0.5b-instruct"].split("│")[1].strip() == "*"
    assert added.returncode == 0 and "Added tiny" in added.stdout, added.stderr
    assert refused.returncode == 2 and "is not a GGUF file" in refused.stderr
    assert unknown.returncode == 2 and "unknown model 'no-such-model'" in unknown.stderr
    assert used.returncode == 0 and "tiny is now the default model." in used.stdout, used.stderr
    registry = json.loads((models_dir / "registry.json").read_text())
    assert registry["default"] == "tiny" and set(registry["models"]) == {"tiny"}
    assert registry["models"]["tiny"]["path"] == str(fake)
    # Its answers will name the exact file: the hash is taken once, when it is added.
    assert registry["models"]["tiny"]["sha256"] == hashlib.sha256(fake.read_bytes()).hexdigest()
    rows = _model_rows(after.stdout)
    assert rows["tiny"].split("│")[1].strip() == "*" and rows["tiny"].split("│")[4].strip() == "yes"
    assert rows["qwen2.5-coder-0.5b-instruct"].split("│")[1].strip() == ""
    assert rows["qwen2.5-coder-0.5b-instruct"].split("│")[4].strip() == "no"  # not in this models dir
