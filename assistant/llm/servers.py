"""Several OpenAI-compatible servers of one model, shared by free capacity.

Each question goes to the healthy server with the most free slots: llama.cpp's
llama-server says how many of its slots are generating (``GET /slots``); for a
server without that endpoint (vLLM, llama-cpp-python's server) this process
counts its own requests in flight against the server's slots. A server that
fails a request is left out until its health check answers again
(``GET /health``, or the model list where there is none); it is checked at most
every ``check_seconds``, when a question comes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import httpx

from assistant.errors import Overloaded

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0


class NoServerAnswers(Overloaded):
    """Every LLM server is down (or was, at its last check)."""


@dataclass
class Upstream:
    """One server: its OpenAI base URL (``…/v1``) and what is known of its state."""

    url: str
    api_key: str | None = None
    slots: int = 1
    slot_endpoint: bool = False
    in_flight: int = 0
    down_since: float | None = None
    last_check: float = 0.0
    reason: str = ""
    client: object | None = field(default=None, repr=False)

    @property
    def root(self) -> str:
        """The server's own address, where llama-server has /health and /slots."""
        url = self.url.rstrip("/")
        return url[: -len("/v1")] if url.endswith("/v1") else url

    @property
    def healthy(self) -> bool:
        return self.down_since is None

    def _get(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return httpx.get(path, headers=headers, timeout=PROBE_TIMEOUT_S)

    def answers_health_check(self) -> bool:
        """llama-server's /health says ok; a server without one answers its model list."""
        try:
            health = self._get(f"{self.root}/health")
            if health.status_code != 404:
                return health.status_code == 200
            return self._get(f"{self.url.rstrip('/')}/models").status_code == 200
        except httpx.HTTPError:
            return False

    def read_slots(self) -> list[dict] | None:
        """llama-server's slots (each says whether it is generating), or None where the server has no /slots."""
        try:
            response = self._get(f"{self.root}/slots")
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            slots = response.json()
        except ValueError:
            return None
        return slots if isinstance(slots, list) and slots else None

    def free_slots(self) -> int:
        if self.slot_endpoint:
            slots = self.read_slots()
            if slots is not None:
                return sum(1 for slot in slots if not _generating(slot))
        return self.slots - self.in_flight


def _generating(slot: dict) -> bool:
    # llama-server says "is_processing"; versions before it said "state" (0 idle, 1 processing).
    return bool(slot.get("is_processing", slot.get("state", 0)))


class ServerPool:
    def __init__(self, upstreams: list[Upstream], check_seconds: float = 5.0, slots: int | None = None):
        if not upstreams:
            raise ValueError("no LLM server given")
        self.upstreams = upstreams
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._turn = 0  # spreads ties round-robin
        self._configured_slots = slots
        for upstream in upstreams:
            self._learn_slots(upstream)

    def _learn_slots(self, upstream: Upstream) -> None:
        found = upstream.read_slots()
        upstream.slot_endpoint = found is not None
        upstream.slots = self._configured_slots or (len(found) if found else 1)

    @property
    def capacity(self) -> int:
        """Answers the healthy servers generate at once (at least 1, so a question can find out none answers)."""
        return max(1, sum(u.slots for u in self.upstreams if u.healthy))

    def acquire(self) -> Upstream:
        """The healthy server with the most free slots, counted as busy with one more request until released."""
        self._recheck_down()
        healthy = [u for u in self.upstreams if u.healthy]
        if not healthy:
            reasons = "; ".join(f"{u.url}: {u.reason}" for u in self.upstreams)
            retry = max(1, round(self.check_seconds))
            raise NoServerAnswers(f"no language model server answers ({reasons})", retry_after=retry)
        free = {id(u): u.free_slots() for u in healthy}
        with self._lock:
            self._turn += 1
            order = healthy[self._turn % len(healthy) :] + healthy[: self._turn % len(healthy)]
            chosen = max(order, key=lambda u: free[id(u)])
            chosen.in_flight += 1
        return chosen

    def release(self, upstream: Upstream) -> None:
        with self._lock:
            upstream.in_flight -= 1

    def failed(self, upstream: Upstream, error: Exception) -> None:
        """Leave ``upstream`` out until its health check answers again."""
        with self._lock:
            if upstream.healthy:
                log.warning("LLM server %s failed (%s); sending questions to the others until it answers again",
                            upstream.url, error)  # fmt: skip
                upstream.down_since = time.monotonic()
            upstream.last_check = time.monotonic()
            upstream.reason = str(error) or type(error).__name__

    def _recheck_down(self) -> None:
        now = time.monotonic()
        for upstream in self.upstreams:
            if upstream.healthy or now - upstream.last_check < self.check_seconds:
                continue
            upstream.last_check = now
            if upstream.answers_health_check():
                log.info("LLM server %s answers again", upstream.url)
                self._learn_slots(upstream)
                upstream.down_since, upstream.reason = None, ""
