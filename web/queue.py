"""One model, many users: a fair queue in front of generation.

As many answers are generated at once as the model has slots: one for the
in-process llama.cpp context, the servers' parallel slots when the model runs
on OpenAI-compatible servers (``slots``, asked again at every turn, so a server
that fails or comes back changes it). Waiting requests are served round-robin across users, so one busy script cannot starve
everyone else; when too many wait, new ones are refused at once (the API turns
that into 503 with Retry-After) instead of hanging. A request that gives up
while waiting leaves the queue immediately.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable

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
    def __init__(self, max_waiting: int, seconds_per_answer: float = 15.0, slots: Callable[[], int] = lambda: 1):
        self.max_waiting = max_waiting
        self.seconds_per_answer = seconds_per_answer
        self.slots = slots
        self._waiting: OrderedDict[str, deque[asyncio.Future]] = OrderedDict()
        self._running = 0

    @property
    def depth(self) -> int:
        """Requests waiting, not counting the one being answered."""
        return sum(len(q) for q in self._waiting.values())

    @property
    def busy(self) -> bool:
        """Every slot is generating."""
        return self._running >= max(1, self.slots())

    def check_capacity(self) -> None:
        """Raise QueueFull if a request joining now would have to wait and no place is left."""
        if (self.busy or self.depth) and self.depth >= self.max_waiting:
            slots = max(1, self.slots())
            raise QueueFull(retry_after=max(1, round((self.depth + 1) * self.seconds_per_answer / slots)))

    def join(self, user: str) -> Turn:
        """Take a place for ``user``; raises QueueFull at once when too many are waiting."""
        self.check_capacity()
        granted = asyncio.get_running_loop().create_future()
        if not self.busy and not self.depth:
            self._running += 1
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
        """A slot is free: give free slots to the next users in round-robin order, their oldest request first."""
        self._running -= 1
        while self._waiting and not self.busy:
            user, tickets = next(iter(self._waiting.items()))
            granted = tickets.popleft()
            del self._waiting[user]
            if tickets:  # this user goes to the back of the line
                self._waiting[user] = tickets
            if not granted.done():
                granted.set_result(None)
                self._running += 1
