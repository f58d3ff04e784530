"""POST /v1/events:batch: many commands in one request (bulk imports, CI bursts).

Every item is handed to the writer at once, so the group commit saves them in as few
transactions as its batch size allows; each item is answered on its own (a result or a
problem), and a refused item never fails the others."""

from __future__ import annotations

import asyncio
import math
from typing import Any, Literal, Union

import msgspec
from aiohttp import web

from ledger.domain import commands as c
from ledger.domain.errors import DomainError
from ledger.domain.text import Storable, decode_json, explained
from ledger.http.keys import SETTINGS, WRITER
from ledger.http.problems import Unprocessable, field_of
from ledger.http.ratelimit import over_limit, take_writes
from ledger.http.requests import context_from
from ledger.http.responses import json_response
from ledger.wire.shapes import FieldError, Problem, WriteResult, domain_problem, write_status

MAX_ITEMS = 10_000


class ItemResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    index: int
    status: int
    result: WriteResult | None = None
    problem: Problem | None = None


class BatchResult(msgspec.Struct, kw_only=True):
    results: list[ItemResult]
    accepted: int
    refused: int


KEY = "idempotency_key"
BatchItem = msgspec.defstruct(
    "BatchItem",
    [(c.TAG, Literal[tuple(c.BATCHED)]), (KEY, Storable | None, None)],
    kw_only=True,
)
"""What an item says beyond its command: the ``op`` naming it, and an optional idempotency key
(checked first, so an item with an unknown op is answered as such)."""


async def read_items(request: web.Request) -> list[Any]:
    """The items: a JSON array, or NDJSON (one object a line), at most LEDGER_MAX_BATCH_BYTES."""
    limit = request.app[SETTINGS].max_batch_bytes
    body = bytearray()
    async with asyncio.timeout(request.app[SETTINGS].body_timeout_seconds):
        async for chunk in request.content.iter_chunked(65536):
            body += chunk
            if len(body) > limit:
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    if request.content_type in ("application/x-ndjson", "application/jsonl"):
        lines = [line for line in bytes(body).splitlines() if line.strip()]
        items = [decode_json(line, f"[{index}]") for index, line in enumerate(lines)]
    else:
        items = decode_json(bytes(body))
    if not isinstance(items, list):
        raise Unprocessable("body", "a JSON array of commands, or NDJSON")
    if len(items) > MAX_ITEMS:
        raise Unprocessable("body", f"at most {MAX_ITEMS} items per batch")
    return items


async def batch(request: web.Request) -> web.Response:
    items = await read_items(request)
    context = context_from(request)
    writer = request.app[WRITER]
    allowed, wait = take_writes(request, max(len(items) - 1, 0))  # the request took one
    pending: list[ItemResult | asyncio.Future[WriteResult]] = []
    for index, item in enumerate(items):
        if index > allowed:
            pending.append(_limited(index, over_limit(request, wait)))
            continue
        try:
            command, key = _command(item)
        except (msgspec.ValidationError, Unprocessable) as error:
            pending.append(_invalid(index, error))
            continue
        ctx = msgspec.structs.replace(context, idempotency_key=key) if key else context
        pending.append(writer.submit_async(command, ctx))
    results = [await _outcome(i, p) for i, p in enumerate(pending)]
    refused = sum(1 for r in results if r.problem is not None)
    accepted = len(results) - refused
    answer = json_response(BatchResult(results=results, accepted=accepted, refused=refused))
    if wait:
        answer.headers["Retry-After"] = str(math.ceil(wait))
    return answer


def _command(item: Any) -> tuple[c.AnyCommand, str | None]:
    if not isinstance(item, dict):
        raise Unprocessable("item", "each item is a JSON object with an op")
    key: str | None = getattr(msgspec.convert(item, BatchItem), KEY)
    fields = {k: v for k, v in item.items() if k != KEY}
    return c.command_of(fields), key


def _invalid(index: int, error: msgspec.ValidationError | Unprocessable) -> ItemResult:
    if isinstance(error, Unprocessable):
        field, message = error.field, error.message
    else:
        field, message = field_of(error), explained(error)
    errors = [FieldError(field=field, message=message)]
    problem = Problem(
        type="about:blank", title="Invalid field", status=422, detail=message, errors=errors
    )
    return ItemResult(index=index, status=422, problem=problem)


def _limited(index: int, detail: str) -> ItemResult:
    problem = Problem(type="about:blank", title="Too many writes", status=429, detail=detail)
    return ItemResult(index=index, status=429, problem=problem)


async def _outcome(index: int, pending: ItemResult | asyncio.Future[WriteResult]) -> ItemResult:
    if isinstance(pending, ItemResult):
        return pending
    try:
        result = await pending
    except DomainError as error:
        return ItemResult(index=index, status=error.status, problem=domain_problem(error))
    return ItemResult(index=index, status=write_status(result), result=result)


def _operation(command: type[c.AnyCommand]) -> type[msgspec.Struct]:
    """The command as a batch item: its fields, its ``op`` tag, and an optional key."""
    return msgspec.defstruct(
        f"{command.__name__}Operation",
        [(KEY, Storable | None, None)],
        bases=(command,),
        kw_only=True,
        frozen=True,
        forbid_unknown_fields=True,
    )


OPERATIONS = tuple(_operation(command) for command in c.BATCHED.values())
BatchOperation: Any = Union[OPERATIONS]  # noqa: UP007 (a union built from a tuple of types)
"""What an item may be, one operation per ``op``: the request body's schema (OpenAPI)."""
