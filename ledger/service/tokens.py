"""Bearer tokens: stored only as SHA-256 hashes, each with a principal, a kind and scopes."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from msgspec import Struct

from ledger.domain.errors import Conflict, Invalid, NotFound
from ledger.domain.events import ActorKind
from ledger.domain.names import check_name
from ledger.domain.policy import SCOPES
from ledger.settings import Settings
from ledger.sql.database import Database, create_schema
from ledger.sql.opening import open_database

TOKENS_TABLE = """
CREATE TABLE IF NOT EXISTS ledger_tokens (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)"""
TOKEN_PREFIX = "ledger_"
KINDS = ("ci", "human", "system")


class Principal(Struct, frozen=True, kw_only=True):
    """Who a token speaks for."""

    name: str
    kind: ActorKind
    scopes: frozenset[str]


class TokenInfo(Struct, kw_only=True):
    name: str
    kind: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(text: str) -> frozenset[str]:
    scopes = frozenset(s.strip() for s in text.split(",") if s.strip())
    unknown = sorted(scopes - set(SCOPES))
    if unknown or not scopes:
        raise Invalid(f"unknown scopes {unknown}; choose from {', '.join(SCOPES)}", field="scopes")
    return scopes


class Tokens:
    """The token table, with a short cache of whether any token is active (open mode or not)."""

    ACTIVE_CACHE_SECONDS = 1.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self._active: tuple[float, bool] = (0.0, False)

    async def create_table(self) -> None:
        await create_schema(self.db, [TOKENS_TABLE])

    async def create(self, name: str, kind: str, scopes: frozenset[str]) -> str:
        """A new token for the principal; the plaintext is returned once and never stored."""
        check_name(name, "name")
        if kind not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self.db.transaction() as conn:
            row = await conn.fetchrow("SELECT revoked_at FROM ledger_tokens WHERE name = $1", name)
            if row is not None and row["revoked_at"] is None:
                raise Conflict(f"an active token named {name!r} exists; revoke it first")
            await conn.execute("DELETE FROM ledger_tokens WHERE name = $1", name)
            await conn.execute(
                "INSERT INTO ledger_tokens (name, kind, scopes, token_hash, created_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                name,
                kind,
                ",".join(sorted(scopes)),
                token_hash(token),
                _now(),
            )
        self._active = (0.0, False)
        return token

    async def list(self) -> list[TokenInfo]:
        rows = await self.db.fetch(
            "SELECT name, kind, scopes, created_at, revoked_at FROM ledger_tokens ORDER BY name"
        )
        return [TokenInfo(**{**r, "scopes": r["scopes"].split(",")}) for r in rows]

    async def revoke(self, name: str) -> None:
        changed = await self.db.execute(
            "UPDATE ledger_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
            name,
            _now(),
        )
        if not changed:
            raise NotFound(f"no active token named {name!r}", field="name")
        self._active = (0.0, False)

    async def authenticate(self, token: str) -> Principal | None:
        row = await self.db.fetchrow(
            "SELECT name, kind, scopes FROM ledger_tokens"
            " WHERE token_hash = $1 AND revoked_at IS NULL",
            token_hash(token),
        )
        if row is None:
            return None
        return Principal(
            name=row["name"], kind=row["kind"], scopes=frozenset(row["scopes"].split(","))
        )

    async def any_active(self) -> bool:
        """Whether the ledger runs with tokens (cached briefly; revocation needs no restart)."""
        checked_at, active = self._active
        if time.monotonic() - checked_at < self.ACTIVE_CACHE_SECONDS:
            return active
        row = await self.db.fetchrow("SELECT 1 AS one FROM ledger_tokens WHERE revoked_at IS NULL")
        self._active = (time.monotonic(), row is not None)
        return row is not None


@asynccontextmanager
async def open_tokens(settings: Settings) -> AsyncIterator[Tokens]:
    """The token table of the configured store (for the CLI, which runs without a server)."""
    database = await open_database(settings)
    try:
        tokens = Tokens(database)
        await tokens.create_table()
        yield tokens
    finally:
        await database.close()


def _now() -> str:
    return datetime.now(UTC).isoformat()
