"""From a request to a typed command and its context: body, path parameters, headers."""

from __future__ import annotations

import asyncio
import re
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from ledger.domain.commands import TAG, Command, Context
from ledger.domain.events import Via
from ledger.domain.names import MAX_VERSION, is_count
from ledger.domain.text import decode_json
from ledger.http.keys import PRINCIPAL, SETTINGS
from ledger.http.problems import Unprocessable
from ledger.wire.tracecontext import TraceContext, trace_context

C = TypeVar("C", bound=Command)
_HEADER_VALUE = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,127}$")
_ACTOR_KINDS = ("ci", "human", "system")


async def read_object(request: web.Request) -> dict[str, Any]:
    """The JSON object in the body (an empty body reads as {}); a slow body times out (408)."""
    try:
        async with asyncio.timeout(request.app[SETTINGS].body_timeout_seconds):
            raw = await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="the request body did not arrive in time") from None
    if not raw.strip():
        return {}
    data = decode_json(raw)
    if not isinstance(data, dict):
        raise Unprocessable("body", "the body must be a JSON object")
    return data


def path_params(request: web.Request) -> dict[str, Any]:
    """Route parameters, with the numeric ones as integers."""
    params: dict[str, Any] = dict(request.match_info)
    for name in ("version",):
        if name in params:
            if not is_count(params[name], MAX_VERSION):
                raise Unprocessable(name, f"{params[name]!r} is not a release number")
            params[name] = int(params[name])
    return params


async def command_from(request: web.Request, cls: type[C], renames: dict[str, str]) -> C:
    """Decode the body plus the path parameters into the command; the path wins."""
    body = await read_object(request)
    for outer, inner in renames.items():
        if outer in body:
            body[inner] = body.pop(outer)
        elif inner in body:
            raise Unprocessable(inner, f"unknown field {inner!r}")
    if TAG in body:  # the route names the command; only a batch item says its op
        raise msgspec.ValidationError(f"Object contains unknown field `{TAG}`")
    try:
        return msgspec.convert(body | path_params(request), cls)
    except msgspec.ValidationError as error:
        message = str(error)
        for outer, inner in renames.items():
            message = message.replace(f"`{inner}`", f"`{outer}`").replace(
                f"$.{inner}", f"$.{outer}"
            )
        raise msgspec.ValidationError(message) from None


def header(request: web.Request, name: str) -> str | None:
    value = request.headers.get(name)
    if value is None:
        return None
    if not _HEADER_VALUE.match(value):
        raise Unprocessable(name, "must be 1-128 printable ASCII characters")
    return value


def context_from(request: web.Request) -> Context:
    """Who is asking: the token's principal, or in open mode the X-Ledger-Actor header."""
    principal = request[PRINCIPAL]
    trace = trace_of(request)
    if principal is not None:
        return Context(
            actor=principal.name,
            actor_kind=principal.kind,
            authenticated=True,
            via=_via(request),
            correlation_id=header(request, "X-Ledger-Correlation-Id"),
            traceparent=trace.traceparent,
            tracestate=trace.tracestate,
            idempotency_key=header(request, "Idempotency-Key"),
            scopes=principal.scopes,
        )
    kind = header(request, "X-Ledger-Actor-Kind") or "human"
    if kind not in _ACTOR_KINDS:
        raise Unprocessable("X-Ledger-Actor-Kind", f"must be one of {', '.join(_ACTOR_KINDS)}")
    return Context(
        actor=header(request, "X-Ledger-Actor") or "anonymous",
        actor_kind=kind,  # type: ignore[arg-type]
        authenticated=False,
        via=_via(request),
        correlation_id=header(request, "X-Ledger-Correlation-Id"),
        traceparent=trace.traceparent,
        tracestate=trace.tracestate,
        idempotency_key=header(request, "Idempotency-Key"),
    )


def trace_of(request: web.Request) -> TraceContext:
    """The W3C trace context of the request's traceparent and tracestate headers (an invalid
    traceparent is ignored, as the specification has receivers do)."""
    headers = request.headers
    return trace_context(headers.getall("traceparent", ()), headers.getall("tracestate", ()))


def _via(request: web.Request) -> Via:
    """The CLI says so with X-Ledger-Via: cli; everything else over HTTP is http."""
    return "cli" if request.headers.get("X-Ledger-Via") == "cli" else "http"
