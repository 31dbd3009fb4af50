"""The egress guard: Enclave's process connects to nothing but loopback and the services it was configured with.

A Python audit hook (PEP 578) sees every name lookup (``socket.getaddrinfo``, ``socket.gethostbyname``) and
every ``connect``/``sendto`` made through Python's socket module — by Enclave or by any library it loads —
before it happens, and refuses what is not allowed with ``EgressRefused`` (a ``PermissionError``, so
libraries treat it as the network failure it is). A refused name is never even looked up in DNS.

Allowed: loopback and Unix sockets; the hosts named by URLs in the settings (LLM, embeddings, Chroma,
database, directory, identity provider); the hosts of each configured connector (``permit`` is called when
one is built); and ``egress_allow`` (host names, ``.domain`` suffixes, IP addresses or networks). An address
is allowed when it is one of those, or when it was resolved from an allowed name.

Hooks cannot be removed once added, so the guard is one per process: ``install`` adds the hook the first
time and later calls (another runtime in the same process) only widen what it allows.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import threading
import traceback
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger("enclave.egress")

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
LOOKUP_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"}
CONNECT_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg"}


class EgressRefused(PermissionError):
    """A connection (or name lookup) the egress guard refused."""


@dataclass(frozen=True)
class Refusal:
    destination: str
    origin: str  # file:line and function of the code that tried, outside the socket machinery


class EgressGuard:
    def __init__(self):
        self._names: set[str] = set()
        self._suffixes: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._resolved: set[str] = set()
        self._lock = threading.Lock()
        self.installed = False
        self.refusals: deque[Refusal] = deque(maxlen=200)  # the latest, for the admin overview
        self.refused_total = 0

    # What is allowed

    def permit(self, destinations: Iterable[str]) -> None:
        """Allow each destination: a URL, a host name, ``.example.com`` (that domain and below), an IP or a network."""
        with self._lock:
            for destination in destinations:
                self._permit_one(destination.strip().lower())

    def _permit_one(self, destination: str) -> None:
        if not destination:
            return
        host = urlsplit(destination).hostname if "://" in destination else destination
        if not host:
            return  # e.g. sqlite:///path: a file, not a host
        try:
            self._networks.append(ipaddress.ip_network(host, strict=False))
            return
        except ValueError:
            pass
        if host.startswith(".") or host.startswith("*."):
            self._suffixes.add(host.lstrip("*"))
        else:
            self._names.add(host)

    def allows_name(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if host in LOOPBACK_NAMES or host in self._names or any(host.endswith(s) for s in self._suffixes):
            return True
        return self.allows_address(host)

    def allows_address(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        if ip.is_loopback or ip.is_unspecified or address in self._resolved:
            return True
        return any(ip in network for network in self._networks)

    # The hook

    def install(self) -> None:
        if self.installed:
            return
        sys.addaudithook(self._audit)
        socket.getaddrinfo = self._recording(socket.getaddrinfo)
        self.installed = True

    def _recording(self, getaddrinfo):
        """Wrap the lookup so the addresses an allowed name resolves to are allowed for ``connect``."""

        def lookup(host, *args, **kwargs):
            results = getaddrinfo(host, *args, **kwargs)
            if isinstance(host, bytes):
                host = host.decode("idna")
            if host and self.allows_name(host):
                self._resolved.update(str(r[4][0]) for r in results)
            return results

        return lookup

    def _audit(self, event: str, args: tuple) -> None:
        if not event.startswith("socket."):
            return
        if event in LOOKUP_EVENTS:
            host = args[0]
            if isinstance(host, bytes):
                host = host.decode("idna", "replace")
            if host is None or host == "" or self.allows_name(str(host)):
                return
            self._refuse(f"{host}" + (f":{args[1]}" if event == "socket.getaddrinfo" and args[1] else ""))
        elif event in CONNECT_EVENTS:
            sock, address = args[0], args[-1]
            if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
                return  # Unix sockets and the like never leave the machine
            if not self.allows_address(str(address[0])):
                self._refuse(f"{address[0]}:{address[1]}")

    def _refuse(self, destination: str) -> None:
        refusal = Refusal(destination, _origin())
        self.refusals.append(refusal)
        self.refused_total += 1
        log.warning("egress guard refused a connection to %s, attempted from %s", destination, refusal.origin)
        raise EgressRefused(
            f"Enclave's egress guard refused a connection to {destination}: it is not loopback, a configured "
            "service or connector, or in egress_allow"
        )


def _origin() -> str:
    """The innermost frame outside the socket and networking libraries: the code that wanted to connect."""
    frames = traceback.extract_stack()[:-3]
    plumbing = ("/socket.py", "/ssl.py", "/asyncio/", "/http/client.py", "/urllib", "/httpcore", "/httpx",
                "/requests/", "/anyio/", __file__)  # fmt: skip
    for frame in reversed(frames):
        if not any(part in frame.filename for part in plumbing):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"


GUARD = EgressGuard()


def urls_in(model) -> list[str]:
    """Every URL a pydantic model's fields name, singly or in lists: where its settings point."""
    values = [v for value in model.model_dump().values() for v in (value if isinstance(value, list) else [value])]
    return [v for v in values if isinstance(v, str) and "://" in v]


def settings_destinations(settings) -> list[str]:
    """Every URL a setting names (services Enclave was configured to use), plus ``egress_allow``."""
    return urls_in(settings) + list(settings.egress_allow)


def install(settings) -> EgressGuard:
    """Guard this process with what ``settings`` allow (a no-op with ``egress_guard = false``)."""
    if settings.egress_guard:
        GUARD.permit(settings_destinations(settings))
        GUARD.install()
    return GUARD
