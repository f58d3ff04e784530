"""What the route table is made of: the handler type and one route's record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from msgspec import Struct

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Route(Struct, frozen=True, kw_only=True):
    method: str
    path: str
    summary: str
    handler: Any  # Handler; Any because msgspec cannot describe callables
    body: Any = None  # the command (or body) type
    response: Any = None  # the response type
    status: int = 200
    also: tuple[int, ...] = ()  # further success statuses that answer with the same schema
    content_type: str = "application/json"
    text: str | None = None  # what the response is as text/plain (Accept), when it has a text
    renames: dict[str, str] = {}
    query: tuple[str, ...] = ()
    path_schemas: dict[str, dict[str, Any]] = {}  # path parameters checked otherwise than usual
