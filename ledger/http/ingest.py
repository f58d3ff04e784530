"""POST /v1/cdevents: a CloudEvent (structured or binary mode) or a bare CDEvent, ingested."""

from __future__ import annotations

import asyncio

import msgspec
from aiohttp import web

from ledger.domain.commands import Context
from ledger.http.keys import PRINCIPAL, SETTINGS, STORE, WRITER
from ledger.http.problems import problem
from ledger.http.requests import context_from
from ledger.http.responses import json_response
from ledger.ingest.binding import from_http, traced
from ledger.ingest.problems import IngestError
from ledger.ingest.schema import CDEvent
from ledger.ingest.service import Ingestor
from ledger.wire.shapes import FieldError, write_status


async def ingest_cdevent(request: web.Request) -> web.Response:
    """201 with the write result; 202 when the event asks nothing of the ledger, or when the
    change it asks for waits for approval (the answer's ``request``)."""
    try:
        received = from_http(request.headers, await _body(request))
        ingestor = Ingestor(request.app[STORE], request.app[WRITER])
        sender = traced(_sender(request, received.event), received)
        result = await ingestor.ingest(received.event, sender)
    except IngestError as error:
        errors = [FieldError(field=error.field, message=error.detail)] if error.field else None
        return problem(error.status, error.title, error.detail, errors=errors)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return json_response(result, write_status(result) if result.command else 202, **headers)


def _sender(request: web.Request, event: CDEvent) -> Context:
    """The token's principal; in open mode without X-Ledger-Actor, the event's source (ci)."""
    context = context_from(request)
    if request[PRINCIPAL] is not None or "X-Ledger-Actor" in request.headers:
        return context
    kind = context.actor_kind if "X-Ledger-Actor-Kind" in request.headers else "ci"
    return msgspec.structs.replace(context, actor=event.context.source, actor_kind=kind)


async def _body(request: web.Request) -> bytes:
    try:
        async with asyncio.timeout(request.app[SETTINGS].body_timeout_seconds):
            return await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="the request body did not arrive in time") from None
