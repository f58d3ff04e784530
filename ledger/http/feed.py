"""GET /v1/feed: the change feed as Server-Sent Events, resumable with Last-Event-ID.

Each change is ``id: <position>``, ``event: change``, ``data: <history item JSON>``; a
``: ping`` comment keeps idle connections open. The hub lives as long as the app, and its
streams end when the server shuts down (on_shutdown, before connections are closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
from aiohttp import web

from ledger.domain.names import is_count
from ledger.feed import FeedFilter, FeedHub
from ledger.http.keys import FEED, SETTINGS, STORE, VIEWS
from ledger.http.problems import Unprocessable
from ledger.schemas import HistoryItem

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
        async for item in hub.stream(subscription, keepalive):
            await response.write(PING if item is None else sse_event(item))
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
    yield
    await hub.close()


async def close_streams(app: web.Application) -> None:
    """on_shutdown: end every open stream so that the server can stop at once."""
    hub = app.get(FEED)
    if hub is not None:
        hub.close_subscriptions()
