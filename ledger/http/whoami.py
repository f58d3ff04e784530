"""GET /v1/whoami: the caller as the ledger sees it, so a page offers only what it may do."""

from __future__ import annotations

from aiohttp import web

from ledger.http.requests import context_from
from ledger.http.responses import json_response
from ledger.wire.shapes import Caller


async def whoami(request: web.Request) -> web.Response:
    ctx = context_from(request)
    scopes = None if ctx.scopes is None else sorted(ctx.scopes)
    caller = Caller(
        actor=ctx.actor,
        actor_kind=ctx.actor_kind,
        authenticated=ctx.authenticated,
        scopes=scopes,
    )
    return json_response(caller)
