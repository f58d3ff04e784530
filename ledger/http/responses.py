"""JSON answers: a value encoded with msgspec, its status and headers."""

from __future__ import annotations

import msgspec
from aiohttp import web


def json_response(value: object, status: int = 200, **headers: str) -> web.Response:
    """The value as JSON, with the status and headers given."""
    return web.Response(
        body=msgspec.json.encode(value),
        status=status,
        content_type="application/json",
        headers=headers or None,
    )
