"""The change requests' view read: newest first, by status, app and environment.

A pending request past its expiry reads as expired, whether or not its expiry is recorded yet:
each one is shown by ``ledger.wire.gates.request_view``, as a request read from its stream is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from ledger.domain.commands import Name
from ledger.domain.requests import RequestStatus
from ledger.sql.database import Database
from ledger.wire.gates import RequestView, request_view
from projections import sql
from projections.rows import request_of, timestamp

MAX_LIMIT = 1000


class RequestQuery(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Filters of the change requests (as they read now: a pending one past expiry is expired)."""

    status: RequestStatus | None = None
    app: Name | None = None
    env: Name | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT)] = 100


class Overdue(Struct, frozen=True, kw_only=True):
    """A request the views show pending past its expiry: its expiry is not recorded yet."""

    request_id: str
    app: str
    env: str


def requests_sql(query: RequestQuery, now: datetime) -> tuple[str, list[object]]:
    """The statement and arguments that answer a query of the requests at ``now``."""
    condition, args = _conditions(query, now)
    args.append(query.limit)
    return (
        f"SELECT request FROM {sql.REQUESTS} {condition}"
        f"ORDER BY requested_position DESC LIMIT ${len(args)}"
    ), args


def _conditions(query: RequestQuery, now: datetime) -> tuple[str, list[object]]:
    """The WHERE clause (empty, or ending in a space) of a query's filters, and its arguments."""
    where: list[str] = []
    args: list[object] = []

    def match(condition: str, value: object) -> None:
        args.append(value)
        where.append(condition.replace("?", f"${len(args)}"))

    if query.status == "pending":
        match("status = 'pending' AND expires_at > ?", timestamp(now))
    elif query.status == "expired":
        match("(status = 'expired' OR (status = 'pending' AND expires_at <= ?))", timestamp(now))
    elif query.status is not None:
        match("status = ?", query.status)
    for column in ("app", "env"):
        if getattr(query, column) is not None:
            match(f"{column} = ?", getattr(query, column))
    return (f"WHERE {' AND '.join(where)} " if where else ""), args


async def list_requests(
    database: Database, query: RequestQuery, now: datetime
) -> list[RequestView]:
    """The requests the query asks for, newest first, as they read at ``now``."""
    statement, args = requests_sql(query, now)
    rows = await database.fetch(statement, *args)
    return [request_view(request_of(row), now) for row in rows]


async def oldest_pending(
    database: Database, query: RequestQuery, now: datetime
) -> tuple[list[RequestView], int]:
    """The requests pending and not yet expired at ``now`` (of the query's app and env), the
    oldest first, at most ``query.limit`` of them; and how many there are in all."""
    condition, args = _conditions(msgspec.structs.replace(query, status="pending"), now)
    counted = await database.fetchrow(
        f"SELECT COUNT(*) AS n FROM {sql.REQUESTS} {condition}", *args
    )
    rows = await database.fetch(
        f"SELECT request FROM {sql.REQUESTS} {condition}"
        f"ORDER BY requested_position LIMIT ${len(args) + 1}",
        *args,
        query.limit,
    )
    total = int(counted["n"]) if counted else 0
    return [request_view(request_of(row), now) for row in rows], total


async def overdue_requests(database: Database, now: datetime, limit: int) -> list[Overdue]:
    """Requests pending past their expiry at ``now``, the longest overdue first."""
    rows = await database.fetch(
        f"SELECT request_id, app, env FROM {sql.REQUESTS} "
        "WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        timestamp(now),
        limit,
    )
    return [Overdue(request_id=r["request_id"], app=r["app"], env=r["env"]) for r in rows]
