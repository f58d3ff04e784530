"""Followers of the notification log: read batches after a stored position, handle them,
store the new position. Woken after each append, with a polling fallback and backoff.

A follower is handed the log it follows (``EventLog``) and how it owns it (``Ownership``) by
the composition root: it knows neither the event store nor the lock behind them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Protocol

from ledger.domain.events import LedgerEvent

log = logging.getLogger("ledger.follower")
MAX_RETRY_SECONDS = 30.0
STANDBY_SECONDS = 2.0

Batch = list[tuple[int, LedgerEvent]]


class EventLog(Protocol):
    """The notification log a follower follows."""

    def read(self, after: int, limit: int) -> Batch:
        """At most ``limit`` events after position ``after``, in order; ids may have gaps."""

    def head(self) -> int:
        """The position of the newest event (0 when the log is empty)."""


class Ownership(Protocol):
    """Whether this process is a follower's one active owner (across all processes)."""

    async def acquire(self) -> bool:
        """True when this process owns the follower now (taking it over if free)."""

    async def release(self) -> None:
        """Give the follower up (at shutdown)."""


class SoleOwner:
    """The embedded store: one process, always the owner."""

    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class Followed(Protocol):
    name: str
    owner: bool
    position: int


def lagging(followers: Iterable[Followed], head: int, bound: int) -> list[str]:
    """The followers this process owns that are more than ``bound`` events behind the log's
    ``head`` (a bound of 0: none ever is); a standby's position says nothing, so it never is."""
    if bound <= 0:
        return []
    return [f.name for f in followers if f.owner and head - f.position > bound]


class LogFollower(ABC):
    """Runs ``handle`` on each batch of the log after ``position``, in order, until stopped."""

    name = "follower"

    def __init__(
        self,
        events: EventLog,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        ownership: Ownership | None = None,
    ) -> None:
        self.events = events
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.ownership = ownership or SoleOwner()
        self.position = 0
        self.owner = False  # False while another process is the active owner
        self.failing: str | None = None  # the last error, while retrying
        self.failed = 0  # events passed over (recorded as failures) since the process started
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @abstractmethod
    async def load_position(self) -> int:
        """Where this follower stopped last time."""

    @abstractmethod
    async def handle(self, batch: Batch) -> int:
        """Handle one batch, store the new position once it is done, and return it."""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._stopping = False
            self._task = asyncio.create_task(self._follow(), name=f"ledger-{self.name}")

    async def stop(self) -> None:
        """Finish the current batch, then stop (and give up ownership)."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.ownership.release()
        self.owner = False

    def cancel(self) -> None:
        """Stop at once, mid-batch if need be (a shutdown out of time): the position is stored
        with each batch's work, so the next owner redoes the interrupted one."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()

    def wake(self) -> None:
        self._wakeup.set()

    async def step(self) -> int:
        """Handle the next batch; return its size (0 at the end of the log)."""
        return await self._step()

    async def _step(self) -> int:
        batch = await asyncio.to_thread(self.read, self.position)
        if batch:
            self.position = await self.handle(batch)
        return len(batch)

    def read(self, start: int) -> Batch:
        return self.events.read(start, self.batch_size)

    async def _own(self) -> bool:
        """Whether this process is the active owner; a new owner resumes from the stored one."""
        was_owner = self.owner
        self.owner = await self.ownership.acquire()
        if self.owner and not was_owner:
            self.position = await self.load_position()
        return self.owner

    async def _follow(self) -> None:
        failures = 0
        while not self._stopping:
            self._wakeup.clear()
            try:
                if not await self._own():
                    await self._sleep(STANDBY_SECONDS)
                    continue
                count = await self.step()
            except Exception as error:
                failures += 1
                self.failing = f"{type(error).__name__}: {error}"
                log.warning("%s failed at position %d: %s", self.name, self.position, error)
                await self._sleep(min(self.poll_seconds * 2**failures, MAX_RETRY_SECONDS))
                continue
            failures, self.failing = 0, None
            if count < self.batch_size:
                await self._sleep(self.poll_seconds)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()


class IsolatingFollower(LogFollower):
    """A follower that one bad event never stops: when a batch fails for a reason of its own
    (not a transient one, see ``permanent``), it handles the batch's events one by one, records
    the one that fails as this follower's failure, passes it over and goes on."""

    @abstractmethod
    async def handle_batch(self, batch: Batch) -> int:
        """Handle one batch, store the new position once it is done, and return it."""

    @abstractmethod
    async def pass_over(self, position: int, event: LedgerEvent, error: Exception) -> int:
        """Record the event as a failure and store the position past it, atomically; return
        the position this follower is at now."""

    @abstractmethod
    def permanent(self, error: Exception) -> bool:
        """Whether the error belongs to the events handled (else it is retried, never recorded)."""

    async def handle(self, batch: Batch) -> int:
        try:
            return await self.handle_batch(batch)
        except Exception as error:
            if not self.permanent(error):
                raise
            if len(batch) == 1:
                return await self._pass_over(*batch[0], error)
            log.warning("%s: a batch failed (%s); handling its events one by one", self.name, error)
        for position, event in batch:
            self.position = await self.handle([(position, event)])
            if self.position != position:  # another process moved the position on
                break
        return self.position

    async def _pass_over(self, position: int, event: LedgerEvent, error: Exception) -> int:
        log.error("%s passes over position %d: %s", self.name, position, error)
        reached = await self.pass_over(position, event, error)
        if reached == position:
            self.failed += 1
        return reached
