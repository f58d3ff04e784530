"""Connectors in the views' database: each with its secret (encrypted with LEDGER_CIPHER_KEY
when set) and mapping; the deliveries each received (its counts and last delivery are read
from them); the builds they recorded and the releases they made."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

import msgspec
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from ledger.connectors.models import ConnectorView, Counts, DeliveryView, Mapping, NewConnector
from ledger.sql.database import Database, Row, create_schema
from projections.rows import instant, timestamp

CONNECTORS = "ledger_connectors"
DELIVERIES = "ledger_connector_deliveries"
BUILDS = "ledger_connector_builds"
RELEASES = "ledger_connector_releases"
CREATE = [
    f"""CREATE TABLE IF NOT EXISTS {CONNECTORS} (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, secret TEXT NOT NULL, mapping TEXT NOT NULL,
    created_at TEXT NOT NULL, created_by TEXT NOT NULL,
    duplicates BIGINT NOT NULL DEFAULT 0)""",
    f"""CREATE TABLE IF NOT EXISTS {DELIVERIES} (
    connector TEXT NOT NULL, delivery_id TEXT NOT NULL, event TEXT NOT NULL,
    outcome TEXT NOT NULL, received_at TEXT NOT NULL, detail TEXT, position BIGINT,
    app TEXT, env TEXT, commit_sha TEXT, answer TEXT, kept TEXT,
    PRIMARY KEY (connector, delivery_id))""",
    f"""CREATE TABLE IF NOT EXISTS {BUILDS} (
    connector TEXT NOT NULL, app TEXT NOT NULL, commit_sha TEXT NOT NULL,
    build_id TEXT NOT NULL, recorded_at TEXT NOT NULL,
    PRIMARY KEY (connector, app, commit_sha, build_id))""",
    f"""CREATE TABLE IF NOT EXISTS {RELEASES} (
    connector TEXT NOT NULL, app TEXT NOT NULL, env TEXT NOT NULL, reference TEXT NOT NULL,
    version BIGINT NOT NULL, PRIMARY KEY (connector, app, env, reference))""",
]
MAX_DETAIL = 1000
ENCRYPTED = "aes:"
_mapping = msgspec.json.Decoder(Mapping)


class Connector(msgspec.Struct, kw_only=True):
    """A stored connector, secret included (shown once, when registered)."""

    kind: str
    name: str
    secret: str
    mapping: Mapping
    created_at: datetime
    created_by: str

    def view(self, base_url: str, counts: Counts, last: Row | None = None) -> ConnectorView:
        """As listed: never the secret; its counts, and its last delivery's time and outcome."""
        fields = msgspec.structs.asdict(self)
        del fields["secret"]
        if last is not None:
            fields |= {
                "last_delivery_at": instant(last["received_at"]),
                "last_outcome": last["outcome"],
                "last_detail": last["detail"],
            }
        return ConnectorView(
            **fields, counts=counts, receiver_url=receiver_url(base_url, self.name)
        )


def receiver_url(base_url: str, name: str) -> str:
    return f"{base_url}/v1/connectors/{name}/events"


class ConnectorStore:
    """Connectors, their deliveries and the builds they recorded, in the views' database."""

    def __init__(self, database: Database, cipher_key: str | None = None) -> None:
        self.database = database
        self.cipher = AESCipher(Environment(env={"CIPHER_KEY": cipher_key})) if cipher_key else None

    async def create_tables(self) -> None:
        await create_schema(self.database, CREATE)

    async def add(self, new: NewConnector, actor: str) -> Connector | None:
        """The connector registered now; None when one of that name exists."""
        connector = Connector(
            kind=new.kind, name=new.name, secret=new.secret or secrets.token_urlsafe(32),
            mapping=new.mapping, created_at=datetime.now(UTC), created_by=actor,
        )  # fmt: skip
        insert = f"""INSERT INTO {CONNECTORS} (name, kind, secret, mapping, created_at,
            created_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"""
        added = await self.database.execute(
            insert, connector.name, connector.kind, self._sealed(connector.secret),
            msgspec.json.encode(connector.mapping).decode(), timestamp(connector.created_at),
            actor,
        )  # fmt: skip
        return connector if added == 1 else None

    async def all(self) -> list[Connector]:
        rows = await self.database.fetch(f"SELECT * FROM {CONNECTORS} ORDER BY name")
        return [self._connector(row) for row in rows]

    async def views(self, base_url: str) -> list[ConnectorView]:
        """Every connector as listed, with what its deliveries came to."""
        return [await self.view(c, base_url) for c in await self.all()]

    async def view(self, connector: Connector, base_url: str) -> ConnectorView:
        """One connector as listed: its deliveries counted by outcome, and the newest one."""
        rows = await self.database.fetch(
            f"SELECT outcome, COUNT(*) AS n FROM {DELIVERIES} WHERE connector = $1 "
            "GROUP BY outcome",
            connector.name,
        )
        by_outcome = {str(row["outcome"]): int(row["n"]) for row in rows}
        duplicates = await self.database.fetchrow(
            f"SELECT duplicates FROM {CONNECTORS} WHERE name = $1", connector.name
        )
        repeated = int(duplicates["duplicates"]) if duplicates else 0
        counts = Counts(
            **by_outcome, duplicates=repeated, received=sum(by_outcome.values()) + repeated
        )
        last = await self.database.fetchrow(
            f"SELECT received_at, outcome, detail FROM {DELIVERIES} WHERE connector = $1 "
            "ORDER BY received_at DESC, delivery_id DESC LIMIT 1",
            connector.name,
        )
        return connector.view(base_url, counts, last)

    async def get(self, name: str) -> Connector | None:
        row = await self.database.fetchrow(f"SELECT * FROM {CONNECTORS} WHERE name = $1", name)
        return None if row is None else self._connector(row)

    async def delete(self, name: str) -> bool:
        async with self.database.transaction() as conn:
            for table in (DELIVERIES, BUILDS, RELEASES):
                await conn.execute(f"DELETE FROM {table} WHERE connector = $1", name)
            return await conn.execute(f"DELETE FROM {CONNECTORS} WHERE name = $1", name) == 1

    async def delivery(self, connector: str, delivery_id: str) -> DeliveryView | None:
        row = await self.database.fetchrow(
            f"SELECT * FROM {DELIVERIES} WHERE connector = $1 AND delivery_id = $2",
            connector, delivery_id,
        )  # fmt: skip
        return None if row is None else _delivery(row)

    async def answer_of(self, connector: str, delivery_id: str) -> bytes | None:
        """The answer a delivery got when it was handled (its repeats get the same)."""
        row = await self.database.fetchrow(
            f"SELECT answer FROM {DELIVERIES} WHERE connector = $1 AND delivery_id = $2 "
            "AND outcome <> 'waiting'",
            connector, delivery_id,
        )  # fmt: skip
        return None if row is None or row["answer"] is None else str(row["answer"]).encode()

    async def deliveries(
        self, connector: str, outcome: str | None = None, limit: int = 100
    ) -> list[DeliveryView]:
        where, args = "connector = $1", [connector]
        if outcome is not None:
            where, args = where + " AND outcome = $2", [connector, outcome]
        rows = await self.database.fetch(
            f"SELECT * FROM {DELIVERIES} WHERE {where} ORDER BY received_at DESC, delivery_id "
            f"LIMIT {int(limit)}",
            *args,
        )
        return [_delivery(row) for row in rows]

    async def waiting_for(self, connector: str, app: str, commit: str) -> list[str]:
        """The deliveries that wait for a build of ``commit`` of ``app``."""
        rows = await self.database.fetch(
            f"SELECT delivery_id FROM {DELIVERIES} WHERE connector = $1 AND outcome = 'waiting' "
            "AND app = $2 AND commit_sha = $3 ORDER BY received_at",
            connector, app, commit,
        )  # fmt: skip
        return [str(row["delivery_id"]) for row in rows]

    async def record(
        self, delivery: DeliveryView, answer: bytes, commit: str | None, kept: bytes | None = None
    ) -> None:
        """Keep the delivery, its outcome and answer (and, while it waits, the request itself);
        a delivery handled again (one that waited) replaces what it came to before."""
        async with self.database.transaction() as conn:
            await conn.execute(
                f"DELETE FROM {DELIVERIES} WHERE connector = $1 AND delivery_id = $2",
                delivery.connector, delivery.delivery_id,
            )  # fmt: skip
            await conn.execute(
                f"""INSERT INTO {DELIVERIES} (connector, delivery_id, event, outcome,
                received_at, detail, position, app, env, commit_sha, answer, kept)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
                delivery.connector, delivery.delivery_id, delivery.event, delivery.outcome,
                timestamp(delivery.received_at), _short(delivery.detail), delivery.position,
                delivery.app, delivery.env, commit, answer.decode(),
                None if kept is None else kept.decode(),
            )  # fmt: skip

    async def kept(self, connector: str, delivery_id: str) -> bytes | None:
        """The request of a delivery that waits."""
        row = await self.database.fetchrow(
            f"SELECT kept FROM {DELIVERIES} WHERE connector = $1 AND delivery_id = $2 "
            "AND outcome = 'waiting'",
            connector, delivery_id,
        )  # fmt: skip
        return None if row is None or row["kept"] is None else str(row["kept"]).encode()

    async def count_duplicate(self, connector: str) -> None:
        """A repeat of a delivery answered before (kept nowhere else)."""
        await self.database.execute(
            f"UPDATE {CONNECTORS} SET duplicates = duplicates + 1 WHERE name = $1", connector
        )

    async def remember_build(self, connector: str, app: str, commit: str, build_id: str) -> None:
        await self.database.execute(
            f"""INSERT INTO {BUILDS} (connector, app, commit_sha, build_id, recorded_at)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
            connector, app, commit, build_id, timestamp(datetime.now(UTC)),
        )  # fmt: skip

    async def build_of_commit(self, connector: str, app: str, commit: str) -> str | None:
        row = await self.database.fetchrow(
            f"SELECT build_id FROM {BUILDS} WHERE connector = $1 AND app = $2 AND "
            "commit_sha = $3 ORDER BY recorded_at DESC LIMIT 1",
            connector, app, commit,
        )  # fmt: skip
        return None if row is None else str(row["build_id"])

    async def remember_release(
        self, connector: str, app: str, env: str, reference: str, version: int
    ) -> None:
        await self.database.execute(
            f"""INSERT INTO {RELEASES} (connector, app, env, reference, version)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
            connector, app, env, reference, version,
        )  # fmt: skip

    async def release_of(self, connector: str, app: str, env: str, reference: str) -> int | None:
        """The version of the release a delivery made under the tool's reference."""
        row = await self.database.fetchrow(
            f"SELECT version FROM {RELEASES} WHERE connector = $1 AND app = $2 AND env = $3 "
            "AND reference = $4",
            connector, app, env, reference,
        )  # fmt: skip
        return None if row is None else int(row["version"])

    def _sealed(self, secret: str) -> str:
        if self.cipher is None:
            return secret
        return ENCRYPTED + base64.b64encode(self.cipher.encrypt(secret.encode())).decode()

    def _opened(self, stored: str) -> str:
        if not stored.startswith(ENCRYPTED):
            return stored
        if self.cipher is None:
            raise RuntimeError("a connector's secret is encrypted: set LEDGER_CIPHER_KEY")
        return self.cipher.decrypt(base64.b64decode(stored.removeprefix(ENCRYPTED))).decode()

    def _connector(self, row: Row) -> Connector:
        fields: dict[str, Any] = dict(row)
        fields |= {
            "secret": self._opened(str(row["secret"])),
            "mapping": _mapping.decode(row["mapping"]),
            "created_at": instant(row["created_at"]),
        }
        del fields["duplicates"]
        return Connector(**fields)


def _delivery(row: Row) -> DeliveryView:
    fields = {k: row[k] for k in DeliveryView.__struct_fields__ if k != "received_at"}
    return DeliveryView(**fields, received_at=instant(row["received_at"]))


def _short(detail: str | None) -> str | None:
    return None if detail is None else detail[:MAX_DETAIL]
