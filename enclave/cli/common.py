"""What the CLI commands share: settings, the runtime, consoles, progress bars."""

from __future__ import annotations

from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from assistant.config import Settings
from assistant.errors import ConfigurationError
from enclave.data_dir import check_writable
from enclave.runtime import Runtime

# soft_wrap: long paths and reasons stay on one line when output is piped or logged.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConfigurationError(f"invalid configuration ({problems}); see `enclave config` and README's Configuration reference")


def runtime(model: str | None = None, writes: bool = False) -> Runtime:
    """The runtime for a command; ``writes`` commands take the index exclusively. A data directory that
    cannot be written or has no room left stops the command here, with its path."""
    settings = load_settings()
    check_writable(settings)
    return Runtime(settings, model=model, index_lock="exclusive" if writes else "shared")


class RateColumn(ProgressColumn):
    """Items done per second, e.g. "3.2 files/s"; blank until rich has two samples to estimate it from."""

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.1f} {self.unit}/s", style="progress.data.speed")


def counting_progress(unit: str, transient: bool = False) -> Progress:
    """Bars for work counted in items: label, done / total, rate, time elapsed and time left, then a status.

    Each task carries its label as the ``label`` field, so its description can
    say what is happening right now (the file being read, say).
    """
    return Progress(
        TextColumn("[bold]{task.fields[label]}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
        TextColumn("{task.description}"),
        console=err,
        transient=transient,
    )
