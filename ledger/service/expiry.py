"""The expiry sweep: every pending change request past its expiry is recorded as expired
(``ChangeExpired``, through the writer like any command), so that history, the feed and NATS
tell it, not only reads. Runs beside the followers (roles all and worker), in one process at a
time: the one that owns it (a PostgreSQL advisory lock; the embedded ledger always does)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from ledger.domain import commands as c
from ledger.domain.errors import Conflict
from ledger.service.writer import Writer
from projections.follower import Ownership, SoleOwner
from projections.queries import Queries
from projections.request_queries import Overdue

log = logging.getLogger("ledger.requests")
SWEEP_SECONDS = 30.0
PAGE = 500
SWEEPER = c.Context(
    actor="ledger", actor_kind="system", authenticated=True, scopes=frozenset({"admin"})
)
"""The ledger itself, as the actor of the expiries it records."""


class RequestExpiry:
    """Every ``interval`` seconds, while this process owns it: one sweep."""

    name = "request-expiry"

    def __init__(
        self,
        queries: Queries,
        writer: Writer,
        *,
        interval: float = SWEEP_SECONDS,
        ownership: Ownership | None = None,
    ) -> None:
        self.queries = queries  # the primary's: what the views hold now
        self.writer = writer
        self.interval = interval
        self.ownership = ownership or SoleOwner()
        self.owner = False
        self.expired = 0  # requests this process recorded as expired since it started
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._sweep_while_owner(), name="ledger-expiry")

    async def stop(self) -> None:
        """Finish the current sweep, then stop (and give up ownership)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.ownership.release()
        self.owner = False

    def cancel(self) -> None:
        """Stop at once (a shutdown out of time): what is left is the next sweep's."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()

    async def sweep(self, now: datetime | None = None) -> int:
        """Record the requests pending past their expiry as expired; return how many were."""
        overdue = await self.queries.overdue_requests(now or datetime.now(UTC), PAGE)
        expired = 0
        for request in overdue:
            if self._stopping.is_set():
                break
            if await self._expire(request):
                expired += 1
        self.expired += expired
        return expired

    async def _expire(self, request: Overdue) -> bool:
        cmd = c.ExpireRequest(app=request.app, env=request.env, request_id=request.request_id)
        try:
            await self.writer.run(cmd, SWEEPER)
        except Conflict as error:  # decided meanwhile (approved, rejected, expired): not ours
            log.debug("request %s is not expired by the sweep: %s", request.request_id, error)
            return False
        except Exception as error:  # one request's failure never stops the sweep
            log.warning("cannot record request %s as expired: %s", request.request_id, error)
            return False
        log.info("request %s expired unapproved", request.request_id)
        return True

    async def _sweep_while_owner(self) -> None:
        while not self._stopping.is_set():
            try:
                self.owner = await self.ownership.acquire()
                if self.owner:
                    await self.sweep()
            except Exception as error:  # the views away, say: the next sweep tries again
                log.warning("the expiry sweep failed: %s", error)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._stopping.wait()
