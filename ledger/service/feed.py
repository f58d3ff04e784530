"""The change feed of one server process: one task follows the history view and fans its
new items out to the subscribers; each subscriber is served from its own position.

A subscriber starts behind: it is caught up from the view (after its position, with its
filter), then gets live items through a bounded queue. When the queue overflows (a slow
reader), it is emptied and the subscriber is marked behind again, so it is caught up from the
view once more: the hub never waits for a subscriber, and a subscriber never loses an item or
gets one twice (items at or below its position are skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator

from msgspec import Struct

from ledger.domain.commands import Name
from ledger.wire.shapes import HistoryItem, HistoryKind
from projections.queries import HistoryQuery, Queries
from projections.views import Views

log = logging.getLogger("ledger.feed")
QUEUE_CAPACITY = 256
PAGE = 200
POLL_SECONDS = 1.0
GATHER_SECONDS = 0.1  # a live item waits at most this long more, so bursts go out together


class FeedFilter(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The history filters a feed may use; an item matches when every given one does."""

    app: Name | None = None
    env: Name | None = None
    kind: HistoryKind | None = None
    actor: str | None = None

    def matches(self, item: HistoryItem) -> bool:
        return (
            (self.app is None or item.app == self.app)
            and (self.env is None or item.env == self.env)
            and (self.kind is None or item.kind == self.kind)
            and (self.actor is None or item.actor == self.actor)
        )

    @property
    def everything(self) -> bool:
        return self.app is None and self.env is None and self.kind is None and self.actor is None

    def query(self, after: int, limit: int = PAGE) -> HistoryQuery:
        return HistoryQuery(
            app=self.app, env=self.env, kind=self.kind, actor=self.actor, after=after, limit=limit
        )


class Subscription:
    """One subscriber: its filter, its position and its bounded queue of live items."""

    def __init__(self, feed_filter: FeedFilter, after: int, capacity: int) -> None:
        self.filter = feed_filter
        self.position = after
        self.capacity = capacity
        self.behind = True  # must be caught up from the view before taking live items
        self._closed = False
        self._items: deque[HistoryItem] = deque()
        self._ready = asyncio.Event()

    def offer(self, items: list[HistoryItem]) -> None:
        """Live items (already in the view), in order; never blocks."""
        if self._closed or self.behind:
            return
        chosen = self.filter
        matched = items if chosen.everything else [i for i in items if chosen.matches(i)]
        if not matched:
            return
        if len(self._items) + len(matched) > self.capacity:
            self.behind = True  # too slow: the view has everything the queue drops
            self._items.clear()
        else:
            self._items.extend(matched)
        self._ready.set()

    def close(self) -> None:
        self._closed = True
        self._ready.set()

    def is_open(self) -> bool:
        return not self._closed

    def take(self) -> list[HistoryItem]:
        items = list(self._items)
        self._items.clear()
        self._ready.clear()
        return items

    async def wait(self, timeout: float) -> bool:
        """Wait for live items (or closing); False when ``timeout`` passed first."""
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True


class FeedHub:
    """Follows the history view and serves every subscriber of this process."""

    def __init__(
        self,
        views: Views,
        *,
        capacity: int = QUEUE_CAPACITY,
        poll_seconds: float = POLL_SECONDS,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        self.views = views
        self.queries: Queries = views.queries
        self.capacity = capacity
        self.poll_seconds = poll_seconds
        self.gather_seconds = gather_seconds
        self.subscriptions: set[Subscription] = set()
        self._last = 0
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Follow the view from where it is now (subscribers catch up on the past themselves)."""
        self._last = await self.queries.position()
        self._task = asyncio.create_task(self._follow(), name="ledger-feed")

    async def close(self) -> None:
        """End every stream, then stop following."""
        self._closing = True
        self.close_subscriptions()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def close_subscriptions(self) -> None:
        for subscription in list(self.subscriptions):
            subscription.close()

    def subscribe(self, feed_filter: FeedFilter, after: int) -> Subscription:
        """A new subscriber of the items after position ``after``."""
        subscription = Subscription(feed_filter, after, self.capacity)
        self.subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        self.subscriptions.discard(subscription)

    async def stream(
        self, subscription: Subscription, keepalive: float
    ) -> AsyncIterator[list[HistoryItem]]:
        """The subscriber's items in order, each once, in runs of those ready together (one
        write each for the server); an empty run after ``keepalive`` seconds idle."""
        while subscription.is_open():
            if subscription.behind:
                subscription.behind = False
                subscription.take()  # the view read below holds all of these
                async for page in self._backfill(subscription):
                    yield page
                continue
            items = subscription.take()
            if not items:
                if not await subscription.wait(keepalive):
                    yield []
                continue
            fresh = [item for item in items if item.position > subscription.position]
            if fresh and subscription.is_open():
                subscription.position = fresh[-1].position
                yield fresh

    async def _backfill(self, subscription: Subscription) -> AsyncIterator[list[HistoryItem]]:
        while subscription.is_open():
            page = await self.queries.history(subscription.filter.query(subscription.position))
            if page.items and subscription.is_open():
                subscription.position = page.items[-1].position
                yield page.items
            if len(page.items) < PAGE:
                return

    async def _follow(self) -> None:
        while not self._closing:
            try:
                reached = await self.queries.position()
                await self._publish_new_items(reached)
                await self.views.wait_for(reached + 1, self.poll_seconds)
                if self.subscriptions:  # let a burst gather: one wake-up per subscriber for all
                    await asyncio.sleep(self.gather_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("the feed failed to read the history view: %s", error)
                await asyncio.sleep(self.poll_seconds)

    async def _publish_new_items(self, reached: int) -> None:
        if not self.subscriptions:  # nobody to serve: a new subscriber catches up from the view
            self._last = max(self._last, reached)
            return
        while True:
            page = await self.queries.history(HistoryQuery(after=self._last, limit=PAGE))
            if page.items:
                for subscription in list(self.subscriptions):
                    subscription.offer(page.items)
                self._last = page.items[-1].position
            if len(page.items) < PAGE:
                return
