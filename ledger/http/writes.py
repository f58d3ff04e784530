"""Write handlers: request → command → the writer → 201 with the position."""

from __future__ import annotations

from aiohttp import web

from ledger.domain.commands import AnyCommand
from ledger.http.keys import WRITER
from ledger.http.requests import command_from, context_from
from ledger.http.responses import json_response
from ledger.http.routing import Handler
from ledger.wire.shapes import write_status


def write(cls: type[AnyCommand], renames: dict[str, str]) -> Handler:
    """The handler of one write route."""

    async def handler(request: web.Request) -> web.Response:
        command = await command_from(request, cls, renames)
        result = await request.app[WRITER].run(command, context_from(request))
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return json_response(result, write_status(result), **headers)

    return handler
