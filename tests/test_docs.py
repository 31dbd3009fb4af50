"""README stays true: its reference sections match the code, and what it names exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer.main

from assistant.config import Settings
from enclave.cli import app

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def test_generated_reference_sections_are_current():
    result = subprocess.run([sys.executable, str(REPO / "docs" / "generate.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_every_endpoint_says_what_it_does():
    from web.app import API_ROUTERS

    for route in (route for router in API_ROUTERS for route in router.routes):
        assert route.include_in_schema and (route.endpoint.__doc__ or "").strip(), f"{route.path} has no docstring"
        assert f"{route.path}` |" in README, route.path


def command_paths(group=None, path=("enclave",)):
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from command_paths(command, path + (name,))
        else:
            yield " ".join(path + (name,))


def test_every_command_and_setting_is_documented():
    for command in command_paths():
        assert f"`{command}`" in README, command
    for name in Settings.model_fields:
        assert f"ENCLAVE_{name.upper()}" in README, name


def test_nothing_documented_is_missing():
    commands = set(command_paths())
    for mentioned in set(re.findall(r"\benclave ([a-z]+(?: [a-z]+(?:-[a-z]+)*)?)", README)):
        words = mentioned.split()
        assert f"enclave {words[0]}" in commands or f"enclave {' '.join(words)}" in commands, mentioned
    variables = {f"ENCLAVE_{n.upper()}" for n in Settings.model_fields} | {"ENCLAVE_CONFIG"}
    for variable in set(re.findall(r"ENCLAVE_[A-Z_]+", README)):
        assert variable in variables, variable
    for target in re.findall(r"^\s*make (\w+)", README, re.M):
        assert re.search(rf"^{target}:", (REPO / "Makefile").read_text(), re.M), target


SOURCE_FOLDERS = "assistant|ingest|connectors|enclave|web|docs|benchmarks|tests|samples|models"


def test_every_file_the_docs_name_exists():
    """README and the docstrings name files in backquotes; each must be there. Folders the programs make
    (hidden ones such as benchmarks/.scratch/) and placeholders (results/NAME.json) are not files to find."""
    texts = {"README.md": README} | {
        str(path.relative_to(REPO)): path.read_text()
        for folder in SOURCE_FOLDERS.split("|")
        for path in (REPO / folder).rglob("*.py")
    }
    named = re.compile(rf"``?((?:{SOURCE_FOLDERS})/[\w./-]*)``?")
    for source, text in texts.items():
        for path in named.findall(text):
            if any(part.startswith(".") or part.split(".")[0].isupper() for part in path.split("/")):
                continue
            assert (REPO / path).exists(), f"{source} names {path}, which does not exist"
