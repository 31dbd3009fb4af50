"""enclave status | config"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import SecretStr

from assistant import catalog
from assistant.config import config_file
from assistant.errors import ConfigurationError

from .common import load_settings, out, runtime


def status() -> None:
    """Show what is indexed, which models are ready, and where the data lives.

    Example: enclave status
    """
    rt = runtime()
    settings = rt.settings
    sizes = rt.documents.sizes()
    failures = rt.documents.failures()
    documents = sum(size.documents for size in sizes)
    out.print(f"Data directory: {settings.data_dir.resolve()} ({_size(settings.data_dir)})")
    out.print(f"Documents: {documents}   Chunks: {_chunks(rt)}")
    for size in sizes:
        out.print(f"  {size.source}: {size.documents} document(s), {size.chunks} chunk(s)")
    out.print(f"Models directory: {settings.models_dir.resolve()} ({_size(settings.models_dir)})")
    default = catalog.default_model_name(settings)
    for entry in catalog.all_models(settings).values():
        marker = " (default)" if entry.name == default else ""
        state = "ready" if entry.present else "not pulled"
        out.print(f"  {entry.name}{marker}: {state}")
    if failures:
        out.print(f"[red]{len(failures)} item(s) failed to index:[/red]")
        for failure in failures[:20]:
            out.print(f"  {failure.source}: {failure.external_id}: {failure.reason}")


def config() -> None:
    """Print the effective configuration (secrets masked) and where it came from.

    Example: enclave config
    """
    settings = load_settings()
    values = {
        name: ("********" if isinstance(value, SecretStr) else str(value) if isinstance(value, Path) else value)
        for name, value in settings.model_dump().items()
        if not (isinstance(value, SecretStr) and not value.get_secret_value())
    }
    source = config_file()
    out.print(f"# from ENCLAVE_* variables, {source} ({'found' if source.exists() else 'absent'}) and defaults")
    print(json.dumps(values, indent=2, default=str))


def _chunks(rt) -> str:
    try:
        return str(rt.store.count())
    except ConfigurationError:  # the server has the index; the database still answers
        return "(the index is in use by the running server)"


def _size(path: Path) -> str:
    if not path.exists():
        return "empty"
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return f"{total / 2**20:,.1f} MiB"
