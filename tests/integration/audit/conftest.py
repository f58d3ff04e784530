"""Tamper evidence on real databases: events written through the writer into a real event
store (SQLite and PostgreSQL), checkpointed, then tampered with directly in SQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent

from ledger.audit import AuditLog, Checkpointer, open_audit
from ledger.audit.messages import Problem, VerifyReport
from ledger.audit.signing import Signer, new_signing_key
from ledger.audit.verifier import verify_log
from ledger.domain import commands as c
from ledger.domain.chain import event_hash
from ledger.domain.events import Artifact, LedgerEvent
from ledger.eventstore.application import LedgerStore
from ledger.service.writer import Writer
from ledger.settings import Settings
from ledger.sql.database import Database
from ledger.sql.opening import open_database

CI = c.Context(actor="ci-bot", actor_kind="ci")
ALICE = c.Context(actor="alice", actor_kind="human")


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """LEDGER_SIGNING_KEY, set for the test (both backends sign)."""
    key = new_signing_key()
    monkeypatch.setenv("LEDGER_SIGNING_KEY", key)
    return key


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = await open_database(settings)
    yield database
    await database.close()


@pytest.fixture
async def audit(settings: Settings, database: Database, signing_key: str) -> AuditLog:
    return await open_audit(settings, database)


@pytest.fixture
async def checkpointer(store: LedgerStore, audit: AuditLog) -> AsyncIterator[Checkpointer]:
    checkpointer = Checkpointer(store, audit.database, audit.signer)
    yield checkpointer
    await checkpointer.stop()


@pytest.fixture
def verify(store: LedgerStore, signing_key: str) -> Any:
    """The verifier, checking signatures with the ledger's public key."""
    public_key = Signer.from_base64(signing_key).public_key

    def run() -> VerifyReport:
        return verify_log(store, public_key)

    return run


class Story:
    """Commands sent the one way they are in production: through the writer."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    async def do(self, command: c.AnyCommand, context: c.Context = CI) -> int:
        return (await self.writer.run(command, context)).position

    async def build(self, app: str, build_id: str) -> int:
        commit = (build_id.encode().hex() + "a1b2c3d4" * 5)[:40]
        artifact = Artifact(digest=f"sha256:{commit}")
        return await self.do(
            c.RecordBuild(
                app=app, build_id=build_id, commit=commit, artifact=artifact, status="succeeded"
            )
        )

    async def begins(self) -> None:
        """Two apps, builds, config, deploys and a flag in shop/prod and shop/staging."""
        await self.do(c.CreateApp(app="shop", description="the web shop"), ALICE)
        await self.do(c.CreateApp(app="api"), ALICE)
        for build_id in ("b1", "b2"):
            await self.build("shop", build_id)
        await self.do(c.ChangeConfig(app="shop", env="prod", set={"A": "1"}), ALICE)
        await self.do(c.Deploy(app="shop", env="prod", build_id="b1"))
        await self.do(c.Deploy(app="shop", env="staging", build_id="b1"))

    async def ends(self) -> None:
        await self.do(c.Deploy(app="shop", env="prod", build_id="b2"))
        flag = c.SetFlag(app="shop", env="prod", flag="checkout", enabled=True, reason="launch")
        await self.do(flag, ALICE)
        await self.do(c.ChangeConfig(app="shop", env="prod", set={"B": "2"}), ALICE)
        await self.build("api", "a1")
        await self.do(c.Deploy(app="shop", env="staging", build_id="b2"))


@pytest.fixture
def story(writer: Writer) -> Story:
    return Story(writer)


class StoredRow(msgspec.Struct, frozen=True):
    position: int
    stream: uuid.UUID
    version: int
    topic: str
    state: bytes

    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = msgspec.json.decode(self.state)
        return decoded


class Tamperer:
    """Someone with write access to the database, changing stored events behind the ledger."""

    def __init__(self, store: LedgerStore) -> None:
        recorder: Any = store.recorder
        self.store = store
        self.datastore = recorder.datastore
        self.sqlite = recorder.__class__.__module__.endswith("sqlite")
        if self.sqlite:
            self.table, self.position, self.mark = recorder.events_table_name, "rowid", "?"
        else:
            self.table = f"{self.datastore.schema}.{recorder.events_table_name}"
            self.position, self.mark = "notification_id", "%s"

    def _run(self, sql: str, *args: object) -> list[Any]:
        sql = sql.format(table=self.table, position=self.position, p=self.mark)
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall()) if sql.lstrip().startswith("SELECT") else []

    def _key(self, stream: uuid.UUID) -> object:
        return stream.hex if self.sqlite else stream

    def rows(self) -> list[StoredRow]:
        found = self._run(
            "SELECT {position} AS position, originator_id, originator_version, topic, state "
            "FROM {table} ORDER BY {position}"
        )
        return [
            StoredRow(
                int(r["position"]),
                uuid.UUID(str(r["originator_id"])),
                int(r["originator_version"]),
                str(r["topic"]),
                bytes(r["state"]),
            )
            for r in found
        ]

    def of(self, stream: uuid.UUID) -> list[StoredRow]:
        return [row for row in self.rows() if row.stream == stream]

    def edit(self, position: int, **changes: object) -> None:
        """Change fields inside the stored event's JSON, keeping everything else as it was."""
        row = next(r for r in self.rows() if r.position == position)
        self.overwrite(position, msgspec.json.encode({**row.event(), **changes}))

    def overwrite(self, position: int, state: bytes) -> None:
        self._run("UPDATE {table} SET state = {p} WHERE {position} = {p}", state, position)

    def delete(self, position: int) -> None:
        self._run("DELETE FROM {table} WHERE {position} = {p}", position)

    def swap(self, first: int, second: int) -> None:
        rows = {r.position: r for r in self.rows()}
        for here, there in ((first, second), (second, first)):
            self.overwrite(here, rows[there].state)

    def insert(self, row: StoredRow, *, at: int | None = None) -> None:
        """Insert a forged row: at a chosen position, or at the end of the log."""
        values = (self._key(row.stream), row.version, row.topic, row.state)
        if at is None:
            self._run(
                "INSERT INTO {table} (originator_id, originator_version, topic, state) "
                "VALUES ({p}, {p}, {p}, {p})",
                *values,
            )
        else:
            self._run(
                "INSERT INTO {table} ({position}, originator_id, originator_version, topic, "
                "state) VALUES ({p}, {p}, {p}, {p}, {p})",
                at,
                *values,
            )

    def leave_a_gap(self) -> int:
        """Skip a position, as a rolled-back transaction does: PostgreSQL burns a sequence
        value; SQLite holds the next rowid with a placeholder that ``close_gap`` deletes."""
        if not self.sqlite:
            sequence = f"pg_get_serial_sequence('{self.table}', 'notification_id')"
            return int(self._run(f"SELECT nextval({sequence}) AS n")[0]["n"])
        self.insert(StoredRow(0, uuid.uuid4(), 1, "placeholder", b"{}"))
        return int(self._run("SELECT MAX(rowid) AS n FROM {table}")[0]["n"])

    def close_gap(self, position: int) -> None:
        if self.sqlite:
            self.delete(position)

    def hash_of(self, row: StoredRow) -> str:
        """The chain hash of a stored event, as the ledger computes it."""
        stored = StoredEvent(
            originator_id=row.stream,
            originator_version=row.version,
            topic=row.topic,
            state=row.state,
        )
        event = self.store.mapper.to_domain_event(stored)
        assert isinstance(event, LedgerEvent)
        return event_hash(event)

    def forge(self, original: StoredRow, **changes: object) -> StoredRow:
        """A new event made from a stored one, with changes to its content."""
        data = {**original.event(), "event_id": str(uuid.uuid4()), **changes}
        version = int(str(data["originator_version"]))
        return StoredRow(0, original.stream, version, original.topic, msgspec.json.encode(data))


@pytest.fixture
def tamperer(store: LedgerStore) -> Tamperer:
    return Tamperer(store)


@pytest.fixture
def named() -> Any:
    """Find the problems of a kind found at a place (position, stream_id, version, ...)."""

    def find(report: VerifyReport, check: str, **where: object) -> list[Problem]:
        expected = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in where.items()}
        return [
            p
            for p in report.problems
            if p.check == check and all(getattr(p, k) == v for k, v in expected.items())
        ]

    return find
