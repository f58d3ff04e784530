"""The list of change requests, read from the views."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from aiohttp import web

from ledger.http.consistency import caught_up
from ledger.http.parameters import int_param
from ledger.http.responses import json_response
from ledger.wire.gates import RequestList
from projections.request_queries import RequestQuery

TEXT_FILTERS = ("status", "app", "env")


async def list_requests(request: web.Request) -> web.Response:
    """Change requests, newest first (?status=, ?app=, ?env=, ?limit=): each as
    ``GET /v1/requests/{id}`` shows it, a pending one past its expiry as expired."""
    query = request_query(request)
    queries = await caught_up(request)
    items = await queries.requests(query, datetime.now(UTC))
    return json_response(RequestList(items=items))


def request_query(request: web.Request) -> RequestQuery:
    """The RequestQuery of the request's filters (422 naming the one at fault)."""
    fields: dict[str, object] = {
        name: request.query[name] for name in TEXT_FILTERS if name in request.query
    }
    limit = int_param(request, "limit")
    if limit is not None:
        fields["limit"] = limit
    return msgspec.convert(fields, RequestQuery)
