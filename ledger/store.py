"""The event store: eventsourcing's recorders for SQLite or PostgreSQL, with a msgspec mapper."""

from __future__ import annotations

from functools import cache
from typing import Any, cast
from urllib.parse import unquote, urlsplit
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.settings import Settings

EVENTS_FILE = "ledger.sqlite"


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
            return _decoder(cls).decode(state)
        return _upcast(cls, msgspec.json.decode(state), version)


@cache
def _decoder(cls: type) -> msgspec.json.Decoder[Any]:
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
            "SQLITE_DBNAME": str(settings.data_dir / EVENTS_FILE),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    url = urlsplit(settings.database_url)
    return env | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_POOL_SIZE": "8",
        "POSTGRES_MAX_OVERFLOW": "8",
    }


def position_of(recorder: Any, originator_id: UUID, version: int) -> int | None:
    """The global position (notification id) of one stored event."""
    table = recorder.events_table_name
    where = "WHERE originator_id={0} AND originator_version={0}"
    if recorder.__class__.__module__.endswith("sqlite"):
        sql = f"SELECT rowid AS position FROM {table} " + where.format("?")
        key: object = originator_id.hex
    else:
        table = f"{recorder.datastore.schema}.{table}"
        sql = f"SELECT notification_id AS position FROM {table} " + where.format("%s")
        key = originator_id
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(sql, (key, version))
        row = cursor.fetchone()
    return None if row is None else int(cast(Any, row)["position"])
