"""The webhooks table: each webhook with its secret and its own delivered position."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from ledger.sql.database import Database, Row, create_schema
from ledger.webhooks.models import (
    NewWebhook,
    WebhookCreated,
    WebhookFields,
    WebhookFilter,
    WebhookView,
)
from projections import failures
from projections.rows import instant, timestamp

TABLE = "ledger_webhooks"
CREATE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    format TEXT NOT NULL,
    secret TEXT NOT NULL,
    filter TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    delivered_at TEXT,
    failing_since TEXT,
    paused_at TEXT,
    last_error TEXT
)"""
INSERT = f"""INSERT INTO {TABLE} (id, url, format, secret, filter, position, created_at,
    created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"""
ADVANCE = f"""UPDATE {TABLE} SET position = $2, delivered_at = COALESCE($4, delivered_at),
    failing_since = NULL, last_error = NULL WHERE id = $1 AND position = $3"""
FAILED = f"""UPDATE {TABLE} SET failing_since = COALESCE(failing_since, $3), last_error = $2
    WHERE id = $1"""
MAX_ERROR = 500
_filter = msgspec.json.Decoder(WebhookFilter)


def follower_name(hook_id: str) -> str:
    """A webhook's name in the failures table (and the metric's ``follower`` label)."""
    return f"webhook {hook_id}"


def now() -> datetime:
    return datetime.now(UTC)


def shown_url(url: str) -> str:
    """The URL without its path and query, which may carry a token (Slack's do)."""
    parts = urlsplit(url)
    if parts.path in ("", "/") and not parts.query:
        return url
    return f"{parts.scheme}://{parts.netloc}/…{url[-4:]}"


class Webhook(WebhookFields, kw_only=True):
    """A stored webhook, secret included (never sent back but once, when created)."""

    secret: str

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def view(self) -> WebhookView:
        state = "paused" if self.paused else "failing" if self.failing_since else "active"
        fields = msgspec.structs.asdict(self)
        del fields["secret"]
        return WebhookView(**fields | {"url": shown_url(self.url), "state": state})

    def created(self) -> WebhookCreated:
        fields = msgspec.structs.asdict(self.view()) | {"url": self.url, "secret": self.secret}
        return WebhookCreated(**fields)


def _webhook_of(row: Row) -> Webhook:
    times = ("created_at", "delivered_at", "failing_since", "paused_at")
    fields: dict[str, Any] = dict(row) | {"filter": _filter.decode(row["filter"])}
    fields |= {k: instant(row[k]) if row[k] else None for k in times}
    return Webhook(**fields)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else timestamp(moment)


ID_PATTERN = r"^wh_[0-9a-f]{16}$"
"""The form of a webhook's id."""


class WebhookStore:
    """Webhooks in the views' database (PostgreSQL or the SQLite file)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def create_table(self) -> None:
        await create_schema(self.database, [CREATE])

    async def add(self, new: NewWebhook, position: int, actor: str) -> Webhook:
        """A new webhook that delivers the changes after ``position``."""
        hook = Webhook(
            id="wh_" + secrets.token_hex(8),  # ID_PATTERN
            url=new.url,
            format=new.format,
            secret=new.secret or secrets.token_urlsafe(32),
            filter=new.filter,
            position=position,
            created_at=now(),
            created_by=actor,
        )
        await self.database.execute(
            INSERT, hook.id, hook.url, hook.format, hook.secret,
            msgspec.json.encode(hook.filter).decode(), hook.position,
            timestamp(hook.created_at), hook.created_by,
        )  # fmt: skip
        return hook

    async def all(self) -> list[Webhook]:
        rows = await self.database.fetch(f"SELECT * FROM {TABLE} ORDER BY created_at, id")
        return [_webhook_of(row) for row in rows]

    async def get(self, hook_id: str) -> Webhook | None:
        row = await self.database.fetchrow(f"SELECT * FROM {TABLE} WHERE id = $1", hook_id)
        return None if row is None else _webhook_of(row)

    async def delete(self, hook_id: str) -> bool:
        """Delete the webhook and the record of what it passed over."""
        async with self.database.transaction() as conn:
            await failures.forget(conn, follower_name(hook_id))
            return await conn.execute(f"DELETE FROM {TABLE} WHERE id = $1", hook_id) == 1

    async def resume(self, hook_id: str) -> bool:
        """Deliver again, retrying from the position it stopped at."""
        statement = f"""UPDATE {TABLE} SET paused_at = NULL, failing_since = NULL,
            last_error = NULL WHERE id = $1"""
        return await self.database.execute(statement, hook_id) == 1

    async def advance(
        self, hook_id: str, position: int, expected: int, delivered: datetime | None
    ) -> bool:
        """Move the position on (False when the webhook is gone or moved by another worker)."""
        changed = await self.database.execute(
            ADVANCE, hook_id, position, expected, _text(delivered)
        )
        return changed == 1

    async def pass_over(
        self, hook_id: str, position: int, expected: int, event_id: str, error: BaseException
    ) -> bool:
        """Move the position past an item that cannot be delivered and record it as the
        webhook's failure, atomically (False when the webhook is gone or moved on)."""
        async with self.database.transaction() as conn:
            if await conn.execute(ADVANCE, hook_id, position, expected, None) != 1:
                return False
            await failures.record(conn, follower_name(hook_id), position, event_id, error)
        return True

    async def failed(self, hook_id: str, error: str, at: datetime) -> datetime:
        """Record a failed attempt; return since when the webhook has been failing."""
        await self.database.execute(FAILED, hook_id, error[:MAX_ERROR], timestamp(at))
        row = await self.database.fetchrow(
            f"SELECT failing_since FROM {TABLE} WHERE id = $1", hook_id
        )
        return instant(row["failing_since"]) if row and row["failing_since"] else at

    async def pause(self, hook_id: str, at: datetime) -> None:
        await self.database.execute(
            f"UPDATE {TABLE} SET paused_at = $2 WHERE id = $1", hook_id, timestamp(at)
        )
