"""The projection runner: follows the notification log and keeps the views up to date.

Each batch's view changes are written with the new position in one transaction, so a crash
never skips or repeats an event: a new runner resumes from the stored position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable

from eventsourcing.persistence import Notification

from ledger.application import LedgerStore
from ledger.domain.events import ENVIRONMENT_EVENTS, LedgerEvent
from ledger.domain.model import Environment
from projections.projectors import EnvKey, ViewChanges
from projections.store import PositionConflict, ViewStore

log = logging.getLogger("ledger.projections")
BATCH_SIZE = 500
POLL_SECONDS = 1.0
CACHE_SIZE = 10_000
MAX_RETRY_SECONDS = 30.0
WATCH_SECONDS = 0.05

Progress = Callable[[int, int], None]


class ProjectionRunner:
    """Applies every event of the log to the views exactly once, in order."""

    def __init__(
        self,
        store: LedgerStore,
        views: ViewStore,
        *,
        batch_size: int = BATCH_SIZE,
        poll_seconds: float = POLL_SECONDS,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.store = store
        self.views = views
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.cache_size = cache_size
        self._position = 0
        self._cache: OrderedDict[EnvKey, Environment] = OrderedDict()
        self._batch_lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._advanced = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def position(self) -> int:
        """The position of the last event applied to the views."""
        return self._position

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def load(self) -> int:
        """Read the stored position (where the views are) and return it."""
        async with self._batch_lock:
            self._position = await self.views.position()
            self._cache.clear()
        return self._position

    def start(self) -> None:
        """Follow the log in a background task until stop()."""
        if not self.running:
            self._stopping = False
            self._task = asyncio.create_task(self._follow(), name="ledger-projections")

    async def stop(self) -> None:
        """Finish the current batch, then stop following."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    def wake(self) -> None:
        """New events were appended: look now instead of at the next poll."""
        self._wakeup.set()

    async def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until the views include the event at ``position``; False on timeout."""
        if self._position >= position:
            return True
        if not self.running:
            return await self._watch_stored_position(position, timeout)
        self.wake()
        async with self._advanced:
            try:
                await asyncio.wait_for(
                    self._advanced.wait_for(lambda: self._position >= position), timeout
                )
            except TimeoutError:
                return False
        return True

    async def _watch_stored_position(self, position: int, timeout: float) -> bool:
        # Another process (a worker) runs the projections: watch the position it stores.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self.views.position() < position:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(WATCH_SECONDS)
        return True

    async def run_once(self) -> int:
        """Project the next batch of the log; return how many notifications it held."""
        async with self._batch_lock:
            return await self._step()

    async def catch_up(self) -> int:
        """Project batches until the views reach the end of the log; return the position."""
        while await self.run_once():
            pass
        return self._position

    async def rebuild(self, progress: Progress | None = None) -> int:
        """Clear every view and replay the whole log; progress(done, total) after each batch."""
        async with self._batch_lock:
            await self.views.clear()
            self._position = 0
            self._cache.clear()
            total = await asyncio.to_thread(self.store.head)
            while await self._step():
                total = max(total, self._position)
                if progress is not None:
                    progress(self._position, total)
        if progress is not None:
            progress(self._position, max(total, self._position))
        return self._position

    async def _follow(self) -> None:
        await self.load()
        failures = 0
        while not self._stopping:
            self._wakeup.clear()
            try:
                count = await self.run_once()
            except Exception:
                failures += 1
                log.exception("projecting the log failed at position %d", self._position)
                await self._sleep(min(self.poll_seconds * 2**failures, MAX_RETRY_SECONDS))
                continue
            failures = 0
            if count < self.batch_size:
                await self._sleep(self.poll_seconds)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)

    async def _step(self) -> int:
        start = self._position
        events = await asyncio.to_thread(self._read, start)
        if not events:
            return 0
        states = await self._states_for(event for _, event in events)
        changes = ViewChanges(states)
        for position, event in events:
            changes.apply(event, position)
        end = events[-1][0]
        try:
            await self.views.write(changes, start, end)
        except PositionConflict:
            log.warning("another runner moved the views on; resuming from its position")
            self._cache.clear()
            self._position = await self.views.position()
            return len(events)
        except BaseException:
            self._forget(states)
            raise
        await self._advance(end, changes.states)
        return len(events)

    def _read(self, start: int) -> list[tuple[int, LedgerEvent]]:
        """The next notifications after ``start``, decoded; ids may have gaps, never wait."""
        notifications = self.store.recorder.select_notifications(
            start, self.batch_size, inclusive_of_start=False
        )
        return [(n.id, self._decode(n)) for n in notifications]

    def _decode(self, notification: Notification) -> LedgerEvent:
        event = self.store.mapper.to_domain_event(notification)
        if not isinstance(event, LedgerEvent):
            raise TypeError(f"notification {notification.id} is not a ledger event")
        return event

    async def _states_for(self, events: Iterable[LedgerEvent]) -> dict[EnvKey, Environment]:
        """The projected state of each environment the events touch (cache, else the view)."""
        keys = {
            (e.app, e.env)
            for e in events
            if isinstance(e, ENVIRONMENT_EVENTS) and e.env is not None
        }
        states: dict[EnvKey, Environment] = {}
        for key in keys:
            state = self._cache.get(key)
            if state is None:
                state = await self.views.environment(key)
            if state is not None:
                states[key] = state
        return states

    def _forget(self, states: dict[EnvKey, Environment]) -> None:
        # The batch changed these states in place, but its changes were not stored.
        for key in states:
            self._cache.pop(key, None)

    async def _advance(self, position: int, states: dict[EnvKey, Environment]) -> None:
        self._position = position
        for key, state in states.items():
            self._cache[key] = state
            self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        async with self._advanced:
            self._advanced.notify_all()
