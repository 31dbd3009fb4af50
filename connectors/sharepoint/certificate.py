"""The app's certificate credential: a PEM private key and its certificate, read leniently and checked.

An admin pastes the PEM into a one-line password field, which drops the line
breaks, so each block is found by its BEGIN/END lines and re-wrapped. The key
must be an unencrypted RSA key (Entra ID checks RS256 client assertions); the
certificate, when given, must belong to the key and yields the SHA-1 thumbprint
Entra ID lists under Certificates & secrets.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_THUMBPRINT = re.compile(r"[0-9A-F]{40}")


@dataclass(frozen=True)
class CertificateCredential:
    pem: str  # the key, then the certificate if given, each block wrapped at 64 characters
    thumbprint: str  # SHA-1, 40 upper-case hex digits

    def for_msal(self) -> dict:
        """msal's client_credential: it signs an RS256 client assertion with the x5t (SHA-1) header."""
        return {"private_key": self.pem, "thumbprint": self.thumbprint}


def read_credential(text: str, thumbprint: str | None) -> CertificateCredential:
    """The credential in ``text``; raises ValueError saying what is wrong with it."""
    blocks = {kind: body for kind, body in _BLOCK.findall(text)}
    key_kind = next((kind for kind in blocks if kind.endswith("PRIVATE KEY")), None)
    if key_kind is None:
        raise ValueError(
            "client_certificate holds no private key: paste the PEM text that starts with "
            "-----BEGIN PRIVATE KEY----- followed by the certificate (-----BEGIN CERTIFICATE-----)"
        )
    if key_kind == "ENCRYPTED PRIVATE KEY":
        raise ValueError("the private key is encrypted: export it without a passphrase (openssl pkey -in key.pem -out plain.pem)")
    key_pem = _pem(key_kind, blocks[key_kind])
    key = _private_key(key_pem)
    cert_pem = _pem("CERTIFICATE", blocks["CERTIFICATE"]) if "CERTIFICATE" in blocks else ""
    own = _thumbprint_of(cert_pem, key) if cert_pem else None
    given = normalize_thumbprint(thumbprint) if thumbprint else None
    if own and given and own != given:
        raise ValueError(f"certificate_thumbprint {given} is not the certificate's thumbprint ({own}); leave it empty to use the certificate's")
    if not (own or given):
        raise ValueError("client_certificate has no certificate: add it after the private key, or give certificate_thumbprint")
    return CertificateCredential(key_pem + cert_pem, own or given)


def normalize_thumbprint(value: str) -> str:
    """Upper-case hex, without the colons or spaces some tools print between the bytes."""
    digits = re.sub(r"[\s:]", "", value).upper()
    if not _THUMBPRINT.fullmatch(digits):
        raise ValueError(f"certificate_thumbprint {value!r} is not a SHA-1 thumbprint (40 hexadecimal digits)")
    return digits


def _pem(kind: str, body: str) -> str:
    base64 = re.sub(r"\s", "", body)
    return f"-----BEGIN {kind}-----\n" + "\n".join(textwrap.wrap(base64, 64)) + f"\n-----END {kind}-----\n"


def _private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ValueError(f"the private key cannot be read ({error})") from error
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key: Entra ID accepts RSA certificates for app sign-in")
    return key


def _thumbprint_of(cert_pem: str, key: rsa.RSAPrivateKey) -> str:
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError as error:
        raise ValueError(f"the certificate cannot be read ({error})") from error
    if certificate.public_key().public_numbers() != key.public_key().public_numbers():
        raise ValueError("the private key does not belong to the certificate: paste the key the certificate was made with")
    return certificate.fingerprint(hashes.SHA1()).hex().upper()  # Entra ID names certificates by SHA-1 (x5t)
