"""Regenerate the reference sections of README.md from the code, so they cannot drift.

    .venv/bin/python docs/generate.py          # rewrite README.md's generated sections
    .venv/bin/python docs/generate.py --check  # exit 1 if they are stale (the test suite runs this)

The sections sit between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer.main
from typer.core import TyperArgument, TyperOption

README = Path(__file__).resolve().parent.parent / "README.md"


def cli_reference() -> str:
    from enclave.cli import app

    lines: list[str] = []
    for path, command in _commands(typer.main.get_command(app), ["enclave"]):
        lines += [f"#### `{' '.join(path)}`", "", _usage(path, command), ""]
        help_text = (command.help or "").strip()
        description, _, example = help_text.partition("Example:")
        lines += [" ".join(description.split()), ""]
        options = [p for p in command.params if isinstance(p, TyperOption) and p.name != "help"]
        arguments = [p for p in command.params if isinstance(p, TyperArgument)]
        for param in arguments + options:
            lines.append(f"- {_param_name(param)}: {param.help}")
        if arguments or options:
            lines.append("")
        if example.strip():
            lines += ["```", example.strip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _commands(group, path: list[str]):
    if hasattr(group, "commands"):
        for name in sorted(group.commands):
            yield from _commands(group.commands[name], path + [name])
    else:
        yield path, group


def _usage(path: list[str], command) -> str:
    parts = [" ".join(path)]
    for param in command.params:
        if isinstance(param, TyperArgument):
            name = (param.metavar or param.name).upper()
            name = f"{name}..." if param.nargs == -1 else name
            parts.append(name if param.required else f"[{name}]")
    if any(isinstance(p, TyperOption) and p.name != "help" for p in command.params):
        parts.append("[OPTIONS]")
    return f"`{' '.join(parts)}`"


def _param_name(param) -> str:
    if isinstance(param, TyperArgument):
        return f"`{(param.metavar or param.name).upper()}`"
    flags = ", ".join(f"`{o}`" for o in param.opts)
    return flags if param.is_flag else f"{flags} {param.name.upper()}"


def settings_reference() -> str:
    from assistant.config import Settings

    rows = ["| Setting (`enclave.toml`) | Environment variable | Default | What it does |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "from the machine" if field.default_factory else field.default
        # A "|" would end the table cell, even inside backticks.
        shown = "unset" if default is None else f"`{default}`".replace("|", "\\|")
        rows.append(f"| `{name}` | `ENCLAVE_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows) + "\n"


def endpoints_reference() -> str:
    """Every API endpoint with who may call it (read off its dependencies) and its docstring's first sentence."""
    from web.api.deps import audience
    from web.app import API_ROUTERS

    rows = ["| Endpoint | Who | What |", "|---|---|---|"]
    for route in (route for router in API_ROUTERS for route in router.routes):
        if route.include_in_schema:
            methods = "/".join(sorted(route.methods))
            summary = " ".join((route.endpoint.__doc__ or "").split()).split(". ")[0].rstrip(".")
            rows.append(f"| `{methods} {route.path}` | {audience(route)} | {summary} |")
    return "\n".join(rows) + "\n"


SECTIONS = {"cli": cli_reference, "settings": settings_reference, "endpoints": endpoints_reference}


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md lacks the <!-- generated:{name} --> section")
        text = pattern.sub(lambda m: m.group(1) + make() + m.group(2), text)
    return text


def main() -> int:
    current = README.read_text()
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            print("README.md's generated sections are stale: run .venv/bin/python docs/generate.py")
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
