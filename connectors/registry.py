"""The one map from connector type to class. A new source registers here."""

from __future__ import annotations

from assistant import egress
from connectors.interfaces import Connector, ConnectorConfig


def connector_types() -> dict[str, type[Connector]]:
    # Imported here so a source's libraries load only when connectors are used.
    from connectors.local.connector import LocalFolderConnector
    from connectors.salesforce.connector import SalesforceConnector
    from connectors.sharepoint.connector import SharePointConnector

    return {c.type: c for c in (LocalFolderConnector, SharePointConnector, SalesforceConnector)}


def connector_class(type_name: str) -> type[Connector]:
    types = connector_types()
    if type_name not in types:
        raise KeyError(f"unknown connector type {type_name!r}; choose one of {', '.join(sorted(types))}")
    return types[type_name]


def build(type_name: str, config: ConnectorConfig) -> Connector:
    """The one way a connector is made; its destinations are let through the egress guard first."""
    egress.GUARD.permit(config.egress_destinations())
    return connector_class(type_name)(config)
