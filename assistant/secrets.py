"""Secrets at rest: connector passwords, client secrets and tokens, encrypted with Fernet.

The key is ENCLAVE_SECRET_KEY when set (for several services sharing one
database), else DATA_DIR/secret.key, created on first use with mode 0600.
Losing the key means re-entering the secrets; the documents are unaffected.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from assistant.config import Settings
from assistant.errors import ConfigurationError

PREFIX = "fernet:"
MASK = "********"
KEY_FILE = "secret.key"


def _key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    return path.read_bytes().strip()


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return
    with os.fdopen(descriptor, "wb") as f:
        f.write(Fernet.generate_key())


class SecretBox:
    def __init__(self, settings: Settings):
        try:
            self._fernet = Fernet(_key(settings))
        except ValueError as error:
            raise ConfigurationError(
                "the secret key is not a Fernet key (32 url-safe base64 bytes); "
                "generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from error

    def seal(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        if not sealed.startswith(PREFIX):
            raise ConfigurationError("a stored secret is not encrypted; re-enter it")
        try:
            return self._fernet.decrypt(sealed[len(PREFIX) :].encode()).decode()
        except InvalidToken as error:
            raise ConfigurationError(
                "a stored secret cannot be decrypted with this secret key (was ENCLAVE_SECRET_KEY or "
                "DATA_DIR/secret.key changed?); re-enter the connector's secrets"
            ) from error
