"""The event store: eventsourcing's recorders for SQLite or PostgreSQL, with a msgspec mapper."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.settings import Settings

SCHEMA_LOCK_KEY = 7204611553  # the same key as the views' DDL lock
CONNECT_TIMEOUT_SECONDS = 2  # per try; eventsourcing tries a statement 10 times


class MsgspecMapper(Mapper[UUID]):
    """Stores each event as msgspec JSON of its Struct (then compressed/encrypted if set)."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        version = getattr(cls, "class_version", 1)
        if version > 1:
            state = msgspec.json.encode({**msgspec.structs.asdict(domain_event), "_v": version})
        else:
            state = msgspec.json.encode(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(cls),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        version = getattr(cls, "class_version", 1)
        if version == 1:
            return decoder_of(cls).decode(state)
        return _upcast(cls, msgspec.json.decode(state), version)


@cache
def decoder_of(cls: type) -> msgspec.json.Decoder[Any]:
    """The (cached) msgspec decoder of an event class's stored JSON."""
    return msgspec.json.Decoder(cls)


def _upcast(cls: type, data: dict[str, Any], version: int) -> Any:
    """Bring a stored event's data up to the class's version with its upcast_vX_vY rules."""
    old = data.pop("_v", 1)
    while old < version:
        getattr(cls, f"upcast_v{old}_v{old + 1}")(data)
        old += 1
    return msgspec.convert(data, cls)


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing library's environment for the configured store."""
    env = {"IS_SNAPSHOTTING_ENABLED": "y"}
    if settings.cipher_key:
        env |= {
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": settings.cipher_key,
        }
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return env | {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_file),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    url = urlsplit(settings.database_url)
    return env | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        # faster inserts (recorder.TOPIC; named here so that psycopg loads only on PostgreSQL)
        "APPLICATION_RECORDER_TOPIC": "ledger.eventstore.recorder:ColumnarRecorder",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_POOL_SIZE": "8",
        "POSTGRES_MAX_OVERFLOW": "8",
        # After a PostgreSQL restart every pooled connection is dead: check each one as it
        # leaves the pool (a cheap round trip), so that none fails a request once the server
        # is back; and wait at most this long for a connection while it is away.
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_SECONDS),
    }


@contextmanager
def schema_lock(database_url: str | None) -> Iterator[None]:
    """Hold PostgreSQL's schema lock while eventsourcing creates its tables: processes that
    start together would otherwise race on CREATE TABLE/TYPE. SQLite needs none."""
    if database_url is None:
        yield
        return
    import psycopg  # on demand: the PostgreSQL driver loads only for a PostgreSQL store

    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
