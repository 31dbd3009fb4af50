"""What the CLI commands share: settings, the runtime, consoles."""

from __future__ import annotations

from pydantic import ValidationError
from rich.console import Console

from assistant.config import Settings
from assistant.errors import ConfigurationError
from assistant.runtime import Runtime

# soft_wrap: long paths and reasons stay on one line when output is piped or logged.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConfigurationError(f"invalid configuration ({problems}); see `enclave config` and docs/settings.md")


def runtime(model: str | None = None, writes: bool = False) -> Runtime:
    """The runtime for a command; ``writes`` commands take the index exclusively."""
    return Runtime(load_settings(), model=model, index_lock="exclusive" if writes else "shared")
