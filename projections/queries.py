"""The read side: plain SQL over the views, answering with the wire shapes (ledger.wire.shapes)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from ledger.domain.events import ActorKind, Via
from ledger.domain.names import is_count
from ledger.sql.database import Database
from ledger.wire.gates import RequestView
from ledger.wire.shapes import (
    AppView,
    HistoryItem,
    HistoryKind,
    HistoryPage,
    ReleaseView,
    StateView,
)
from projections import sql
from projections.request_queries import (
    Overdue,
    RequestQuery,
    list_requests,
    oldest_pending,
    overdue_requests,
)
from projections.rows import (
    app_of,
    env_summary_of,
    history_items_of,
    instant,
    release_of,
    state_of,
    timestamp,
)
from projections.view_store import TRACKING_NAME

_STATE_COLUMNS = (
    "app, env, position, updated_at, release, config, flags, schema_version, config_version"
)
_RELEASES = f"SELECT * FROM {sql.RELEASES} WHERE app = $1 AND env = $2"
ENVIRONMENT_KINDS = (
    *("config", "flag", "deploy", "rollout", "migration", "rollback", "promote"),
    "runtime",
)
"""History kinds of the events of an environment's own stream and of its runtime's (``denied``
has its own): what ``?at=`` finds the position of the state as it was then by."""
_OF_ENVIRONMENT = (
    f"FROM {sql.HISTORY} WHERE app = $1 AND env = $2 "
    f"AND kind IN ({', '.join(repr(k) for k in ENVIRONMENT_KINDS)})"
)
EXPORT_CHUNK = 1000
TIMELINE_KINDS = (
    *("config", "deploy", "promote", "rollback", "rollout", "flag", "runtime"),
    *("denied", "request"),
)


def cursor_of(position: int) -> str:
    """The opaque cursor of a history page that continues below ``position``."""
    return base64.urlsafe_b64encode(str(position).encode()).rstrip(b"=").decode()


def position_of_cursor(cursor: str) -> int:
    """The position a cursor stands for; ValueError when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise ValueError("invalid cursor") from error
    if not is_count(text) or int(text) < 1:
        raise ValueError("invalid cursor")
    return int(text)


class HistoryQuery(Struct, frozen=True, kw_only=True):
    """Filters of the change history; ``since`` is inclusive, ``until`` exclusive.

    Newest first, continued with ``cursor`` (the ``next`` of the previous page); or, with
    ``after``, the items with a position above it, oldest first (for followers).
    """

    app: str | None = None
    env: str | None = None
    kind: HistoryKind | None = None
    actor: str | None = None
    actor_kind: ActorKind | None = None
    via: Via | None = None
    correlation_id: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: Annotated[str, Meta(min_length=1, max_length=256)] | None = None
    limit: Annotated[int, Meta(ge=1, le=500)] = 50
    cursor: str | None = None
    after: Annotated[int, Meta(ge=0)] | None = None

    def __post_init__(self) -> None:
        if self.cursor is not None:
            if self.after is not None:
                raise ValueError("give either cursor or after, not both")
            position_of_cursor(self.cursor)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def history_sql(
    query: HistoryQuery, *, limit: int | None = None, upto: int | None = None
) -> tuple[str, list[object]]:
    """The statement and arguments that answer a history query (one more row than the limit,
    ``limit`` when given instead of the query's; ``upto``: only positions up to it)."""
    where: list[str] = []
    args: list[object] = []

    def match(condition: str, value: object) -> None:
        args.append(value)
        where.append(condition.replace("?", f"${len(args)}"))

    for column in ("app", "env", "kind", "actor", "actor_kind", "via", "correlation_id"):
        if getattr(query, column) is not None:
            match(f"{column} = ?", getattr(query, column))
    if query.since is not None:
        match("recorded_at >= ?", timestamp(query.since))
    if query.until is not None:
        match("recorded_at < ?", timestamp(query.until))
    if query.q is not None:
        match(
            "(lower(summary) LIKE ? ESCAPE '\\' OR lower(coalesce(reason, '')) LIKE ? ESCAPE '\\')",
            _like(query.q),
        )
    if query.after is not None:
        match("position > ?", query.after)
    elif query.cursor is not None:
        match("position < ?", position_of_cursor(query.cursor))
    if upto is not None:
        match("position <= ?", upto)
    order = "ASC" if query.after is not None else "DESC"
    args.append((query.limit if limit is None else limit) + 1)
    condition = f"WHERE {' AND '.join(where)} " if where else ""
    statement = (
        f"SELECT * FROM {sql.HISTORY} {condition}ORDER BY position {order} LIMIT ${len(args)}"
    )
    return statement, args


class Queries:
    """Answers about apps, environments, releases and history, from the views."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def position(self) -> int:
        """The position of the last event the views include."""
        row = await self.database.fetchrow(sql.SELECT_POSITION, TRACKING_NAME)
        return 0 if row is None else int(row["position"])

    async def apps(self) -> list[AppView]:
        """Every app with its environments and their current releases, by name."""
        apps = await self.database.fetch(f"SELECT * FROM {sql.APPS} ORDER BY name")
        envs = await self.database.fetch(
            f"SELECT {_STATE_COLUMNS} FROM {sql.STATE} ORDER BY app, env"
        )
        return [app_of(a, [env_summary_of(e) for e in envs if e["app"] == a["name"]]) for a in apps]

    async def app(self, name: str) -> AppView | None:
        row = await self.database.fetchrow(f"SELECT * FROM {sql.APPS} WHERE name = $1", name)
        if row is None:
            return None
        envs = await self.database.fetch(
            f"SELECT {_STATE_COLUMNS} FROM {sql.STATE} WHERE app = $1 ORDER BY env", name
        )
        return app_of(row, [env_summary_of(e) for e in envs])

    async def state(self, app: str, env: str) -> StateView | None:
        """The current state of an environment; None when it has no events yet."""
        row = await self.database.fetchrow(
            f"SELECT {_STATE_COLUMNS} FROM {sql.STATE} WHERE app = $1 AND env = $2", app, env
        )
        return None if row is None else state_of(row)

    async def releases(self, app: str, env: str) -> list[ReleaseView] | None:
        """The releases of an environment, newest first; None when it has no events yet."""
        exists = await self.database.fetchrow(
            f"SELECT position FROM {sql.STATE} WHERE app = $1 AND env = $2", app, env
        )
        if exists is None:
            return None
        rows = await self.database.fetch(f"{_RELEASES} ORDER BY version DESC", app, env)
        return [release_of(row) for row in rows]

    async def release(self, app: str, env: str, version: int) -> ReleaseView | None:
        row = await self.database.fetchrow(f"{_RELEASES} AND version = $3", app, env, version)
        return None if row is None else release_of(row)

    async def history(self, query: HistoryQuery) -> HistoryPage:
        """A page of the change history (see HistoryQuery); stable under concurrent appends."""
        statement, args = history_sql(query)
        rows = await self.database.fetch(statement, *args)
        items = history_items_of(rows[: query.limit])
        more = len(rows) > query.limit and query.after is None
        return HistoryPage(items=items, next=cursor_of(items[-1].position) if more else None)

    async def export(
        self, query: HistoryQuery, upto: int, chunk: int = EXPORT_CHUNK
    ) -> AsyncIterator[list[HistoryItem]]:
        """The filtered history oldest first, after ``query.after`` and up to position ``upto``
        (e.g. where the views were when the export began, so it ends), in keyset chunks."""
        query = msgspec.structs.replace(query, cursor=None, after=query.after or 0)
        while True:
            statement, args = history_sql(query, limit=chunk, upto=upto)
            rows = await self.database.fetch(statement, *args)
            items = history_items_of(rows[:chunk])
            if items:
                yield items
            if len(rows) <= chunk:
                return
            query = msgspec.structs.replace(query, after=items[-1].position)

    async def position_at(self, app: str, env: str, moment: datetime) -> int | None:
        """The position of the environment's last event recorded at or before ``moment``."""
        row = await self.database.fetchrow(
            f"SELECT position {_OF_ENVIRONMENT} AND recorded_at <= $3 "
            "ORDER BY recorded_at DESC, position DESC LIMIT 1",
            app,
            env,
            timestamp(moment),
        )
        return None if row is None else int(row["position"])

    async def first_recorded_at(self, app: str, env: str) -> datetime | None:
        """When the environment's first event was recorded (None: it has none)."""
        row = await self.database.fetchrow(
            f"SELECT recorded_at {_OF_ENVIRONMENT} ORDER BY position LIMIT 1", app, env
        )
        return None if row is None else instant(row["recorded_at"])

    async def timeline(
        self, since: datetime, until: datetime, app: str | None = None, env: str | None = None
    ) -> list[HistoryItem]:
        """Releases made, rollouts, flag flips, runtime changes, refusals and the steps of
        change requests recorded in [since, until), in log order."""
        args: list[object] = [timestamp(since), timestamp(until)]
        where = f"kind IN ({', '.join(repr(k) for k in TIMELINE_KINDS)}) "
        where += "AND recorded_at >= $1 AND recorded_at < $2"
        for column, value in (("app", app), ("env", env)):
            if value is not None:
                args.append(value)
                where += f" AND {column} = ${len(args)}"
        rows = await self.database.fetch(
            f"SELECT * FROM {sql.HISTORY} WHERE {where} ORDER BY position", *args
        )
        return history_items_of(rows)

    async def requests(self, query: RequestQuery, now: datetime) -> list[RequestView]:
        """Change requests, newest first, as they read at ``now`` (see RequestQuery)."""
        return await list_requests(self.database, query, now)

    async def pending_requests(
        self, query: RequestQuery, now: datetime
    ) -> tuple[list[RequestView], int]:
        """Requests pending at ``now``, oldest first, and how many there are (see
        ``oldest_pending``)."""
        return await oldest_pending(self.database, query, now)

    async def overdue_requests(self, now: datetime, limit: int) -> list[Overdue]:
        """Requests pending past their expiry at ``now`` (what the expiry sweep records)."""
        return await overdue_requests(self.database, now, limit)
