"""CDEvents over NATS request-reply: subject ``ledger.ingest.cdevents``, queue group
``ledger-ingest``. The reply is the write result as JSON, or a problem (RFC 9457 fields);
header ``Ledger-Status`` carries the status an HTTP client would have got.

NATS carries no bearer token: who may publish here is NATS's authorization to decide. The
actor is the event's source (a CI/CD tool, actor kind ``ci``), marked unauthenticated."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from ledger.domain.commands import Context
from ledger.ingest.binding import from_nats, traced
from ledger.ingest.problems import problem_of
from ledger.ingest.schema import CDEvent
from ledger.ingest.service import Ingestor
from ledger.wire.shapes import write_status
from ledger.wire.tracecontext import trace_context

log = logging.getLogger("ledger.ingest.nats")
SUBJECT = "ledger.ingest.cdevents"
QUEUE = "ledger-ingest"
MAX_IN_FLIGHT = 64
CLOSE_TIMEOUT_SECONDS = 10.0
Headers = dict[str, str] | None


class Responder:
    """Answers CDEvents sent as NATS requests; connects (and reconnects) in the background."""

    def __init__(self, ingestor: Ingestor, url: str) -> None:
        self.ingestor = ingestor
        self.url = url
        self.subscribed = asyncio.Event()
        self._nc = Client()
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    def start(self) -> None:
        """Connect and subscribe without holding up the caller: NATS may be down for now."""
        self._task = asyncio.create_task(self._serve(), name="ledger-ingest-nats")

    async def _serve(self) -> None:
        try:
            await self._nc.connect(
                self.url,
                name="ledger-ingest",
                connect_timeout=2,
                max_reconnect_attempts=-1,  # keeps trying, also for the first connection
                reconnect_time_wait=1,
                error_cb=_log_error,
            )
            self._subscription = await self._nc.subscribe(SUBJECT, queue=QUEUE, cb=self._on_message)
        except Exception:
            log.exception("CDEvents ingest over NATS did not start")
            return
        self.subscribed.set()
        log.info("answering CDEvents", extra={"subject": SUBJECT, "queue": QUEUE})

    async def _on_message(self, msg: Msg) -> None:
        await self._slots.acquire()  # at most MAX_IN_FLIGHT at once; the rest wait in NATS's queue
        task = asyncio.create_task(self._answer(msg))
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()

    async def _answer(self, msg: Msg) -> None:
        body, headers = await self.reply_to(msg.headers, msg.data)
        if not msg.reply:
            return
        try:
            await self._nc.publish(msg.reply, body, headers=headers)
        except Exception as error:  # the requester may retry; the ingest itself is idempotent
            log.warning("reply not sent", extra={"error": repr(error)})

    async def reply_to(self, headers: Headers, data: bytes) -> tuple[bytes, dict[str, str]]:
        """The reply to one message: its body and headers."""
        try:
            received = from_nats(headers, data)
            sender = traced(sender_of(received.event, headers), received)
            result = await self.ingestor.ingest(received.event, sender)
        except Exception as error:
            problem = problem_of(error)
            return _reply(msgspec.json.encode(problem), "application/problem+json", problem.status)
        status = write_status(result) if result.command else 202
        return _reply(msgspec.json.encode(result), "application/json", status)

    async def close(self) -> None:
        """Stop taking requests, answer those in flight, then disconnect."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=CLOSE_TIMEOUT_SECONDS)
        if not self._nc.is_closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    await self._nc.close()


def sender_of(event: CDEvent, headers: Headers = None) -> Context:
    """Who sent an event over NATS: its source, a CI/CD tool; in the trace of the message's
    ``traceparent`` header, if it is valid."""
    fields = {k.lower(): v for k, v in (headers or {}).items()}
    trace = trace_context([fields.get("traceparent", "")], [fields.get("tracestate", "")])
    return Context(
        actor=event.context.source,
        actor_kind="ci",
        authenticated=False,
        traceparent=trace.traceparent,
        tracestate=trace.tracestate,
    )


def _reply(body: bytes, media: str, status: int) -> tuple[bytes, dict[str, str]]:
    return body, {"Content-Type": media, "Ledger-Status": str(status)}


async def _log_error(error: Exception) -> None:
    log.warning("NATS connection trouble", extra={"error": repr(error)})
