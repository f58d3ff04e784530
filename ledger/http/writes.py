"""Write handlers: request → command → the writer → 201 with the position."""

from __future__ import annotations

import msgspec
from aiohttp import web

from ledger.domain.commands import AnyCommand
from ledger.http.keys import WRITER
from ledger.http.requests import command_from, context_from
from ledger.http.routes import Handler


def json_response(value: object, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(value),
        status=status,
        content_type="application/json",
        headers=headers or None,
    )


def write(cls: type[AnyCommand], renames: dict[str, str]) -> Handler:
    """The handler of one write route."""

    async def handler(request: web.Request) -> web.Response:
        command = await command_from(request, cls, renames)
        result = await request.app[WRITER].run(command, context_from(request))
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return json_response(result, 201, **headers)

    return handler
