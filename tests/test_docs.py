"""README stays true: its reference sections match the code, and what it names exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer.main

from assistant.cli import app
from assistant.config import Settings

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def test_generated_reference_sections_are_current():
    result = subprocess.run([sys.executable, str(REPO / "docs" / "generate.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


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
    for mentioned in set(re.findall(r"\benclave ((?:[a-z]+)(?: [a-z]+)?)", README)):
        words = mentioned.split()
        assert f"enclave {words[0]}" in commands or f"enclave {' '.join(words)}" in commands, mentioned
    variables = {f"ENCLAVE_{n.upper()}" for n in Settings.model_fields} | {"ENCLAVE_CONFIG"}
    for variable in set(re.findall(r"ENCLAVE_[A-Z_]+", README)):
        assert variable in variables, variable
    for target in re.findall(r"^\s*make (\w+)", README, re.M):
        assert re.search(rf"^{target}:", (REPO / "Makefile").read_text(), re.M), target
