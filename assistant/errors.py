"""Errors meant for the person at the keyboard: each says what is wrong and what fixes it.

Every error Enclave reports to a user derives from EnclaveError. Its type, never
its message, says what kind of problem it is: the CLI picks its exit code and
the web API its HTTP status from the type (``STATUS_BY_ERROR`` in ``web/app.py``).
"""


class EnclaveError(Exception):
    """Base of the errors Enclave reports to users without a traceback."""


class ConfigurationError(EnclaveError):
    """A setting, model or path is missing or wrong. The CLI exits with code 2."""


class StorageFailure(EnclaveError):
    """The data directory, the database or the index cannot be used (unwritable, full, corrupt); the
    message names the path."""


class ModelIntegrityError(EnclaveError):
    """A model file did not match its published size or sha256."""


class NotFoundError(EnclaveError):
    """What was asked for does not exist (a stored answer, a document, a connector)."""


class InvalidRequest(EnclaveError):
    """What was asked cannot be done as asked (a bad name, an invalid connector setting)."""


class Forbidden(EnclaveError):
    """The caller may not do this (only an admin may)."""


class Conflict(EnclaveError):
    """What was asked clashes with the current state (a name taken, a sync already under way)."""


class UnreadableDocument(EnclaveError):
    """A document could not be turned into text; the message says why."""


class SourceFailure(EnclaveError):
    """A source as a whole failed (bad credentials, unreachable site), not one item of it."""


class Overloaded(EnclaveError):
    """Too much is asked at once; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class DirectoryUnavailable(EnclaveError):
    """The company directory (LDAP, Microsoft Graph) cannot be reached or refuses Enclave's own account."""
