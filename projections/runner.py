"""The projection runner: follows the notification log and keeps the views up to date.

Each batch's view changes are written with the new position in one transaction, so a crash
never skips or repeats an event: a new runner resumes from the stored position. An event whose
changes cannot be applied or written is recorded as a failure with the position past it, in one
transaction too (projections.failures), and the runner goes on with the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

from ledger.domain.events import ENVIRONMENT_EVENTS, LedgerEvent
from ledger.domain.model import Environment
from ledger.domain.policy import Rules
from ledger.domain.secrets import Fingerprints
from ledger.sql.database import TRANSIENT
from projections.follower import Batch, EventLog, IsolatingFollower, Ownership
from projections.projectors import EnvKey, ViewChanges
from projections.provenance import states_needed
from projections.request_changes import environments_needed, requests_needed
from projections.view_store import PositionConflict, ViewStore

log = logging.getLogger("ledger.projections")
BATCH_SIZE = 5_000  # large batches catch up fast: one transaction, one state row per env
POLL_SECONDS = 1.0
CACHE_SIZE = 10_000
WATCH_SECONDS = 0.05

Progress = Callable[[int, int], None]


class ProjectionRunner(IsolatingFollower):
    """Applies every event of the log to the views exactly once, in order."""

    name = "projections"

    def __init__(
        self,
        events: EventLog,
        views: ViewStore,
        *,
        batch_size: int = BATCH_SIZE,
        poll_seconds: float = POLL_SECONDS,
        cache_size: int = CACHE_SIZE,
        ownership: Ownership | None = None,
        rules: Rules | None = None,
        fingerprints: Fingerprints,
    ) -> None:
        super().__init__(
            events, batch_size=batch_size, poll_seconds=poll_seconds, ownership=ownership
        )
        self.views = views
        self.rules = rules or Rules()  # the policy the summaries' provenance notes follow
        self.fingerprints = fingerprints  # the ledger's: how the views show secret values
        self.cache_size = cache_size
        self._cache: OrderedDict[EnvKey, Environment] = OrderedDict()
        self._rebuilt: set[EnvKey] | None = None  # during a rebuild: the states written so far
        self._batch_lock = asyncio.Lock()
        self._advanced = asyncio.Condition()

    async def load_position(self) -> int:
        self._cache.clear()
        return await self.views.position()

    async def load(self) -> int:
        """Read the stored position (where the views are) and return it."""
        async with self._batch_lock:
            self.position = await self.load_position()
        return self.position

    async def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until the views include the event at ``position``; False on timeout."""
        if self.position >= position:
            return True
        if not self.running or not self.owner:
            return await self._watch_stored_position(position, timeout)
        self.wake()
        async with self._advanced:
            try:
                async with asyncio.timeout(timeout):
                    await self._advanced.wait_for(lambda: self.position >= position)
            except TimeoutError:
                return False
        return True

    async def _watch_stored_position(self, position: int, timeout: float) -> bool:
        # Another process (a worker) runs the projections: watch the position it stores.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (stored := await self.views.position()) < position:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(WATCH_SECONDS)
        self.position = max(self.position, stored)
        return True

    async def step(self) -> int:
        """Project the next batch of the log; return how many notifications it held."""
        async with self._batch_lock:
            return await self._step()

    run_once = step

    async def catch_up(self) -> int:
        """Project batches until the views reach the end of the log; return the position."""
        while await self.step():
            pass
        return self.position

    async def rebuild(self, progress: Progress | None = None) -> int:
        """Clear every view and replay the whole log; progress(done, total) after each batch.

        A bulk load: the secondary indexes are dropped meanwhile and created again at the
        end (one sort each instead of an index update per row), and each batch is read while
        the one before it is written."""
        async with self._batch_lock:
            await self.views.clear()
            await self.views.drop_indexes()
            self.position = 0
            self._cache.clear()
            self._rebuilt = set()
            total = await asyncio.to_thread(self.events.head)
            try:
                total = await self._replay(progress, total)
            finally:
                self._rebuilt = None
                await self.views.create_indexes()
        if progress is not None:
            progress(self.position, max(total, self.position))
        return self.position

    async def _replay(self, progress: Progress | None, total: int) -> int:
        reading = asyncio.create_task(asyncio.to_thread(self.read, self.position))
        try:
            while batch := await reading:
                end = batch[-1][0]
                reading = asyncio.create_task(asyncio.to_thread(self.read, end))
                self.position = await self.handle(batch)
                if self.position != end:  # another runner moved the views on: read from there
                    await reading
                    reading = asyncio.create_task(asyncio.to_thread(self.read, self.position))
                total = max(total, self.position)
                if progress is not None:
                    progress(self.position, total)
        finally:
            reading.cancel()
        return total

    async def handle_batch(self, batch: Batch) -> int:
        try:
            return await self._project(batch)
        except PositionConflict:
            return await self._resume()

    async def _resume(self) -> int:
        log.warning("another runner moved the views on; resuming from its position")
        return await self.load_position()

    async def _project(self, batch: Batch) -> int:
        """Apply the batch's events and write their changes with the new position."""
        start = self.position
        events = [event for _, event in batch]
        states = await self._states_for(events)
        requests = await self.views.requests(requests_needed(events))
        changes = ViewChanges(states, self.fingerprints, self.rules, requests)
        end = batch[-1][0]
        try:
            for position, event in batch:
                changes.apply(event, position)
            await self.views.write(changes, start, end)
        except BaseException:
            self._forget(states)
            raise
        await self._advance(end, changes.states)
        return end

    def permanent(self, error: Exception) -> bool:
        """Any error but the views' database being away, locked or full belongs to the events."""
        return not isinstance(error, TRANSIENT)

    async def pass_over(self, position: int, event: LedgerEvent, error: Exception) -> int:
        """Record the event as a projection failure and move past it (its rows stay unwritten)."""
        try:
            await self.views.pass_over(self.position, position, str(event.event_id), error)
        except PositionConflict:
            return await self._resume()
        await self._advance(position, {})
        return position

    async def _states_for(self, events: list[LedgerEvent]) -> dict[EnvKey, Environment]:
        """The projected state of each environment the events touch, of those their
        summaries look at, and of those whose secret keys a requested config change is shown
        by (cache, else the view)."""
        keys = {
            (e.app, e.env)
            for e in events
            if isinstance(e, ENVIRONMENT_EVENTS) and e.env is not None
        }
        related, apps = states_needed(events, self.rules)
        keys |= related | environments_needed(events)
        states: dict[EnvKey, Environment] = {}
        for key in keys:
            state = self._cache.get(key)
            if state is None and (self._rebuilt is None or key in self._rebuilt):
                state = await self.views.environment(key)
            if state is not None:
                states[key] = state
        for app in apps:
            for key, state in (await self.views.environments_of(app)).items():
                states.setdefault(key, self._cache.get(key) or state)
        return states

    def _forget(self, states: dict[EnvKey, Environment]) -> None:
        # The batch changed these states in place, but its changes were not stored.
        for key in states:
            self._cache.pop(key, None)

    async def _advance(self, position: int, states: dict[EnvKey, Environment]) -> None:
        self.position = position
        for key, state in states.items():
            self._cache[key] = state
            if self._rebuilt is not None:
                self._rebuilt.add(key)
            self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        async with self._advanced:
            self._advanced.notify_all()
