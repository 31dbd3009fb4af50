"""One model, many users: a fair queue in front of generation.

Only one answer is generated at a time (one llama.cpp context). Waiting
requests are served round-robin across users, so one busy script cannot starve
everyone else; when too many wait, new ones are refused at once (the API turns
that into 503 with Retry-After) instead of hanging. A request that gives up
while waiting leaves the queue immediately.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque

from assistant.errors import Overloaded


class QueueFull(Overloaded):
    def __init__(self, retry_after: int):
        super().__init__(f"too many questions are waiting; retry in {retry_after}s", retry_after)


class Turn:
    """A place in the queue: wait for it, then release it (also when giving up while waiting)."""

    def __init__(self, queue: FairQueue, user: str, granted: asyncio.Future):
        self._queue = queue
        self._user = user
        self._granted = granted
        self._released = False

    async def wait(self) -> None:
        await asyncio.shield(self._granted)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._granted.done():
            self._queue._hand_over()
        else:
            self._granted.cancel()
            self._queue._forget(self._user, self._granted)


class FairQueue:
    def __init__(self, max_waiting: int, seconds_per_answer: float = 15.0):
        self.max_waiting = max_waiting
        self.seconds_per_answer = seconds_per_answer
        self._waiting: OrderedDict[str, deque[asyncio.Future]] = OrderedDict()
        self._busy = False

    @property
    def depth(self) -> int:
        """Requests waiting, not counting the one being answered."""
        return sum(len(q) for q in self._waiting.values())

    @property
    def busy(self) -> bool:
        return self._busy

    def check_capacity(self) -> None:
        """Raise QueueFull if a request joining now would have to wait and no place is left."""
        if (self._busy or self.depth) and self.depth >= self.max_waiting:
            raise QueueFull(retry_after=max(1, round((self.depth + 1) * self.seconds_per_answer)))

    def join(self, user: str) -> Turn:
        """Take a place for ``user``; raises QueueFull at once when too many are waiting."""
        self.check_capacity()
        granted = asyncio.get_running_loop().create_future()
        if not self._busy and not self.depth:
            self._busy = True
            granted.set_result(None)
        else:
            self._waiting.setdefault(user, deque()).append(granted)
        return Turn(self, user, granted)

    def _forget(self, user: str, granted: asyncio.Future) -> None:
        tickets = self._waiting.get(user)
        if tickets and granted in tickets:
            tickets.remove(granted)
            if not tickets:
                del self._waiting[user]

    def _hand_over(self) -> None:
        """Give the model to the next user in round-robin order, their oldest request first."""
        while self._waiting:
            user, tickets = next(iter(self._waiting.items()))
            granted = tickets.popleft()
            del self._waiting[user]
            if tickets:  # this user goes to the back of the line
                self._waiting[user] = tickets
            if not granted.done():
                granted.set_result(None)
                self._busy = True
                return
        self._busy = False
