"""GET /v1/feed: the change feed as Server-Sent Events, resumable with Last-Event-ID.

Each change is ``id: <position>``, ``event: change``, ``data: <history item JSON>``; a
``: ping`` comment keeps idle connections open. The hub lives as long as the app, and its
streams end when the server shuts down (on_shutdown, before connections are closed).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator

import msgspec
from aiohttp import web

from ledger.domain.names import is_count
from ledger.http.keys import FEED, SETTINGS, STORE, VIEWS
from ledger.http.problems import Unprocessable
from ledger.service.feed import FeedFilter, FeedHub
from ledger.wire.shapes import HistoryItem

STREAM_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # proxies such as nginx must not buffer the stream
}
RETRY_MILLISECONDS = 2000
PING = b": ping\n\n"


def sse_event(item: HistoryItem) -> bytes:
    data = msgspec.json.encode(item)
    return b"id: %d\nevent: change\ndata: %s\n\n" % (item.position, data)


class EncodedEvents:
    """The SSE bytes of the newest items, by position: every subscriber of a live item gets
    the same bytes, so they are encoded once, not once per subscriber."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._bytes: OrderedDict[int, bytes] = OrderedDict()

    def of(self, items: list[HistoryItem]) -> bytes:
        return b"".join(self._one(item) for item in items)

    def _one(self, item: HistoryItem) -> bytes:
        encoded = self._bytes.get(item.position)
        if encoded is None:
            encoded = self._bytes[item.position] = sse_event(item)
            if len(self._bytes) > self.capacity:
                self._bytes.popitem(last=False)
        return encoded


FEED_BYTES = web.AppKey("feed_bytes", EncodedEvents)


def resume_position(request: web.Request) -> int | None:
    """Where the client stopped: Last-Event-ID (a reconnect), else ?after=, else None (now)."""
    for name, raw in (
        ("Last-Event-ID", request.headers.get("Last-Event-ID")),
        ("after", request.query.get("after")),
    ):
        if raw is not None and raw.strip() != "":
            if not is_count(raw.strip()):
                raise Unprocessable(name, f"{raw!r} is not a position")
            return int(raw.strip())
    return None


def feed_filter(request: web.Request) -> FeedFilter:
    fields = {k: request.query[k] for k in ("app", "env", "kind", "actor") if k in request.query}
    return msgspec.convert(fields, FeedFilter)


async def feed(request: web.Request) -> web.StreamResponse:
    """Stream the changes after the client's position, then live, until either side stops."""
    chosen, after = feed_filter(request), resume_position(request)
    hub = request.app[FEED]
    if after is None:  # from now on: what the log holds now is not news
        after = await asyncio.to_thread(request.app[STORE].head)
    subscription = hub.subscribe(chosen, after)
    response = web.StreamResponse(headers=STREAM_HEADERS)
    try:
        await response.prepare(request)
        await response.write(b"retry: %d\n\n" % RETRY_MILLISECONDS)
        keepalive = request.app[SETTINGS].feed_keepalive_seconds
        encoded = request.app[FEED_BYTES]
        async for items in hub.stream(subscription, keepalive):
            await response.write(encoded.of(items) if items else PING)
    except ConnectionResetError:
        pass  # the client went away; its next connection resumes with Last-Event-ID
    finally:
        hub.unsubscribe(subscription)
    return response


async def feed_hub(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the feed hub of this process, after the ledger is open."""
    hub = FeedHub(app[VIEWS])
    await hub.start()
    app[FEED] = hub
    app[FEED_BYTES] = EncodedEvents()
    yield
    await hub.close()


async def close_streams(app: web.Application) -> None:
    """on_shutdown: end every open stream so that the server can stop at once."""
    hub = app.get(FEED)
    if hub is not None:
        hub.close_subscriptions()
