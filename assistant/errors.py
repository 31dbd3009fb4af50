"""Errors meant for the person at the keyboard: each says what is wrong and what fixes it."""


class EnclaveError(Exception):
    """Base of the errors Enclave reports to users without a traceback."""


class ConfigurationError(EnclaveError):
    """A setting, model or path is missing or wrong. The CLI exits with code 2."""


class ModelIntegrityError(EnclaveError):
    """A model file did not match its published size or sha256."""


class NotFoundError(EnclaveError):
    """What was asked for does not exist (a stored answer, a document)."""
