"""Connector settings as stored: secrets sealed at rest, masked in every API answer.

A connector's secret fields are the ones its Config types as SecretStr.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from assistant.secrets import MASK, SecretBox
from connectors.interfaces import ConnectorConfig
from connectors.registry import connector_class


def secret_fields(config_class: type[ConnectorConfig]) -> set[str]:
    return {
        name
        for name, field in config_class.model_fields.items()
        if field.annotation is SecretStr or SecretStr in getattr(field.annotation, "__args__", ())
    }


def seal(config: ConnectorConfig, box: SecretBox) -> dict[str, Any]:
    """The config as JSON for the database, with every secret encrypted."""
    stored = config.model_dump(mode="json")
    for name in secret_fields(type(config)):
        value = getattr(config, name)
        stored[name] = box.seal(value.get_secret_value()) if value is not None else None
    return stored


def unseal(type_name: str, stored: dict[str, Any], box: SecretBox) -> ConnectorConfig:
    config_class = connector_class(type_name).Config
    values = dict(stored)
    for name in secret_fields(config_class):
        if values.get(name):
            values[name] = box.open(values[name])
    return config_class.model_validate(values)


def masked(type_name: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The config as shown to admins: secrets replaced by a mask (or None when unset)."""
    values = dict(stored)
    for name in secret_fields(connector_class(type_name).Config):
        values[name] = MASK if values.get(name) else None
    return values


def updated(type_name: str, stored: dict[str, Any], changes: dict[str, Any], box: SecretBox) -> ConnectorConfig:
    """The config after ``changes``; a secret sent back masked (or left out) keeps its stored value."""
    current = unseal(type_name, stored, box).model_dump()
    for name, value in changes.items():
        if name in secret_fields(connector_class(type_name).Config) and value in (MASK, None, ""):
            continue
        current[name] = value
    plain = {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in current.items()}
    return connector_class(type_name).Config.model_validate(plain)
