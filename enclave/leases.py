"""Who does what when several workers share one database: claims with an owner and a lease.

A claim is a conditional UPDATE, so of several workers asking at once exactly one
gets it. Its lease runs out unless renewed: a ``Heartbeat`` renews it while the
work runs, so only a worker that died (or hangs) loses it, and another takes
over once it has expired. An owner on this machine whose process is gone loses
its claim at once.

Periodic tasks (group sync, the daily backup) keep their next due time in the
database too (``TaskLease``), so each runs once per period, on one worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.db.models import TaskLease, utcnow

log = logging.getLogger("enclave.leases")


def owner() -> str:
    """This thread of this process on this machine, as a claim's owner."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def owner_is_dead(claimed_by: str) -> bool:
    """Whether ``claimed_by`` is a process of this machine that no longer runs (another machine's is trusted)."""
    host, pid, _ = claimed_by.split(":")
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Heartbeat:
    """Calls ``renew`` every ``every`` seconds in a thread while the block runs; ``renew`` says whether the
    claim is still held (``lost`` is set when it was not)."""

    def __init__(self, renew: Callable[[], bool], every: float, what: str):
        self.renew = renew
        self.every = every
        self.what = what
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{what}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                held = self.renew()
            except Exception:  # the database is away for a moment: the next beat tries again
                log.exception("could not renew the lease of %s", self.what)
                continue
            if not held:
                log.warning("the lease of %s was lost (another worker took it over)", self.what)
                self.lost.set()
                return


def claim_task(sessions: sessionmaker[Session], name: str, claimant: str, lease: timedelta) -> bool:
    """Claim periodic task ``name`` if it is due and no live worker holds it."""
    now = utcnow()
    with sessions() as session:
        if session.get(TaskLease, name) is None:
            session.add(TaskLease(name=name))
            try:
                session.commit()
            except IntegrityError:  # another worker added it first
                session.rollback()
        holder = session.scalar(select(TaskLease.owner).where(TaskLease.name == name))
        free = TaskLease.owner.is_(None) | (TaskLease.lease_until < now)
        if holder and owner_is_dead(holder):
            free = free | (TaskLease.owner == holder)
        due = TaskLease.next_run_at.is_(None) | (TaskLease.next_run_at <= now)
        claimed = session.execute(
            update(TaskLease)
            .where(TaskLease.name == name, free, due)
            .values(owner=claimant, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        return bool(claimed)


def finish_task(sessions: sessionmaker[Session], name: str, claimant: str, next_run_at: datetime) -> None:
    """Give up the claim on ``name`` and say when it is due again."""
    with sessions() as session:
        session.execute(
            update(TaskLease)
            .where(TaskLease.name == name, TaskLease.owner == claimant)
            .values(owner=None, lease_until=None, next_run_at=next_run_at)
            .execution_options(synchronize_session=False)
        )
        session.commit()
