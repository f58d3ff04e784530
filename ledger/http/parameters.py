"""Parameters of reads, checked like any field (422 naming the one at fault): the app and env
of the path, timestamps and counts of the query, and the history's filters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web

from ledger.domain.commands import Name
from ledger.domain.names import is_count
from ledger.http.problems import Unprocessable
from projections.queries import HistoryQuery


class _Names(msgspec.Struct, frozen=True):
    app: Name
    env: Name | None = None


def names(request: web.Request) -> tuple[str, str]:
    """The app and env of the path, validated like any name."""
    info = request.match_info
    checked = msgspec.convert({"app": info["app"], "env": info.get("env")}, _Names)
    return checked.app, checked.env or ""


def time_param(request: web.Request, name: str) -> datetime | None:
    """An RFC 3339 timestamp of the query (one without an offset is taken as UTC)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Unprocessable(name, "must be an RFC 3339 timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    """A non-negative integer of the query; absent: ``default``; anything else (empty too) 422."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not is_count(raw):
        raise Unprocessable(name, f"{raw!r} is not a non-negative integer")
    return int(raw)


HISTORY_TEXT_FILTERS = (
    "app", "env", "kind", "actor", "actor_kind", "via", "correlation_id", "q", "cursor",
)  # fmt: skip


def _no_nul(request: web.Request) -> None:
    for name, value in request.query.items():
        if "\x00" in value:
            raise Unprocessable(name, "must not contain NUL characters")


def history_query(request: web.Request) -> HistoryQuery:
    """The HistoryQuery of the request's filters (422 for a bad one)."""
    _no_nul(request)
    fields: dict[str, Any] = {}
    for name in HISTORY_TEXT_FILTERS:
        if name in request.query:
            fields[name] = request.query[name]
    for name in ("since", "until"):
        moment = time_param(request, name)
        if moment is not None:
            fields[name] = moment
    for name in ("limit", "after"):
        value = int_param(request, name)
        if value is not None:
            fields[name] = value
    return msgspec.convert(fields, HistoryQuery)
