"""The publisher: every event of the log to JetStream, in order, at least once.

Its position is stored only after JetStream acknowledged the batch; a re-sent message carries
the same Nats-Msg-Id (the event id), so JetStream drops the duplicate. NATS being down never
blocks an append: the publisher retries with backoff and catches up when NATS is back."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
import nats
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from ledger.domain.events import LedgerEvent
from ledger.eventstore.application import LedgerStore
from ledger.service.messages import (
    EVENTS_SUBJECT,
    FEED_SUBJECT,
    Message,
    feed_subject,
    messages_of,
)
from ledger.sql.database import Database
from projections import failures, sql
from projections.follower import Batch, IsolatingFollower, Ownership
from projections.queries import HistoryQuery, Queries
from projections.views import Views

log = logging.getLogger("ledger.nats")
STREAM = "LEDGER"
DUPLICATE_WINDOW_SECONDS = 120.0  # far longer than one batch takes to be re-sent
ACK_TIMEOUT_SECONDS = 10.0
CHECKPOINT = "nats"
CLOUDEVENTS_JSON = "application/cloudevents+json"


class Unpublishable(Exception):
    """An event that cannot be made into a message (or that NATS refuses, whenever it is sent)."""


REFUSED = (nats.errors.MaxPayloadError, nats.errors.BadSubjectError)
"""What NATS refuses for a message itself: sending it again would fail again."""


class Publisher(IsolatingFollower):
    """Publishes the log to stream LEDGER on ledger.events.<app>.<env>.<kind> and the feed."""

    name = "nats-publisher"

    def __init__(
        self,
        store: LedgerStore,
        views: Views,
        url: str,
        *,
        checkpoint: str = CHECKPOINT,
        ownership: Ownership | None = None,
    ) -> None:
        super().__init__(store, batch_size=500, poll_seconds=1.0, ownership=ownership)
        self.store = store
        self.views = views
        self.url = url
        self.checkpoint = checkpoint
        self._nc: Any = None
        self._js: JetStreamContext | None = None

    @property
    def database(self) -> Database:
        return self.views.database

    async def load_position(self) -> int:
        await self.database.execute(sql.START_TRACKING, self.checkpoint)
        row = await self.database.fetchrow(sql.SELECT_POSITION, self.checkpoint)
        return 0 if row is None else int(row["position"])

    def permanent(self, error: Exception) -> bool:
        """Only a message that cannot be made or that NATS refuses is passed over: NATS being
        away or slow, or the views late, is retried."""
        return isinstance(error, (Unpublishable, *REFUSED))

    async def handle_batch(self, batch: Batch) -> int:
        start, end = self.position, batch[-1][0]
        await self.publish(batch)
        changed = await self.database.execute(sql.ADVANCE_POSITION, self.checkpoint, end, start)
        if changed != 1:
            return await self._resume()
        return end

    async def pass_over(self, position: int, event: LedgerEvent, error: Exception) -> int:
        positions = (self.position, position)
        event_id = str(event.event_id)
        if not await failures.pass_over(
            self.database, self.checkpoint, self.name, positions, event_id, error
        ):
            return await self._resume()
        return position

    async def _resume(self) -> int:
        log.warning("another publisher moved the position on; resuming from it")
        return await self.load_position()

    async def publish(self, batch: Batch) -> None:
        """Publish a batch and wait until JetStream acknowledged every message of it."""
        js = await self._jetstream()
        fingerprints = self.views.fingerprints
        messages = await asyncio.to_thread(messages_of, self.store, batch, fingerprints)
        summaries = await self._summaries(batch)
        try:
            outgoing = _outgoing(messages, summaries)
        except (ValueError, TypeError) as error:  # e.g. text JSON cannot encode
            raise Unpublishable(f"{type(error).__name__}: {error}") from error
        largest = max((len(body) for _, body, _ in outgoing), default=0)
        if largest > self._nc.max_payload:  # checked first: nats-py would leak its ack's slot
            raise Unpublishable(
                f"a message of {largest} bytes, more than the {self._nc.max_payload} bytes "
                "NATS takes (max_payload)"
            )
        acks = [await js.publish_async(s, body, headers=h) for s, body, h in outgoing]
        async with asyncio.timeout(ACK_TIMEOUT_SECONDS):
            await asyncio.gather(*acks)

    async def _summaries(self, batch: Batch) -> dict[int, bytes]:
        """The history view's one-line summaries of the batch (the feed says what history says)."""
        end = batch[-1][0]
        if not await self.views.wait_for(end, ACK_TIMEOUT_SECONDS):
            raise TimeoutError(f"the history view has not reached position {end}")
        page = await Queries(self.database).history(
            HistoryQuery(after=batch[0][0] - 1, limit=len(batch))
        )
        return {item.position: msgspec.json.encode(_feed_entry(item)) for item in page.items}

    async def _jetstream(self) -> JetStreamContext:
        if self._js is None or self._nc is None or self._nc.is_closed:
            self._nc = await nats.connect(
                self.url, connect_timeout=2, max_reconnect_attempts=-1, reconnect_time_wait=0.5
            )
            self._js = self._nc.jetstream()
            await ensure_stream(self._js)
        return self._js

    async def close(self) -> None:
        await self.stop()
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()


def _outgoing(
    messages: list[Message], summaries: dict[int, bytes]
) -> list[tuple[str, bytes, dict[str, str]]]:
    """Each message's subject, body and headers, and those of its feed entry; both carry the
    event's W3C trace context headers when it has them."""
    outgoing: list[tuple[str, bytes, dict[str, str]]] = []
    for m in messages:
        trace = m.cloudevent.trace_headers()
        headers = {"Nats-Msg-Id": m.msg_id, "Content-Type": CLOUDEVENTS_JSON, **trace}
        outgoing.append((m.subject, msgspec.json.encode(m.cloudevent), headers))
        summary = summaries.get(m.cloudevent.ledgerposition)
        if summary is not None:
            app, _, env = m.cloudevent.subject.partition("/")
            feed_headers = {"Nats-Msg-Id": f"{m.msg_id}:feed", **trace}
            outgoing.append((feed_subject(app, env or None), summary, feed_headers))
    return outgoing


def _feed_entry(item: Any) -> dict[str, Any]:
    return {
        "position": item.position,
        "event_id": str(item.event_id),
        "app": item.app,
        "env": item.env,
        "kind": item.kind,
        "actor": item.actor,
        "summary": item.summary,
        "reason": item.reason,
        "recorded_at": item.recorded_at,
    }


async def ensure_stream(js: JetStreamContext) -> None:
    """Create stream LEDGER (file storage, de-duplication window) or bring its config up to date."""
    config = StreamConfig(
        name=STREAM,
        subjects=[f"{EVENTS_SUBJECT}.>", f"{FEED_SUBJECT}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
