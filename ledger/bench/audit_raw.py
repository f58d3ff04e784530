"""The raw references of the audit reads: the same SQL through asyncpg, and an environment's
state made of its moment snapshot and later events, fetched and decoded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec
from eventsourcing.utils import resolve_topic

from ledger.bench import audit_load
from ledger.domain.events import Snapshot
from ledger.domain.moments import moment_from, moment_id
from ledger.domain.names import environment_id
from ledger.eventstore.backends import decoder_of
from projections.queries import HistoryQuery, history_sql

if TYPE_CHECKING:
    from ledger.bench.workload import Conn as Connection

SNAPSHOT_SQL = (
    "SELECT originator_version, state FROM ledger_snapshots WHERE originator_id = $1 "
    "AND originator_version <= $2 ORDER BY originator_version DESC LIMIT 1"
)
EVENTS_SQL = (
    "SELECT topic, state FROM ledger_events WHERE originator_id = $1 "
    "AND originator_version > $2 AND originator_version <= $3 ORDER BY originator_version"
)
Params = dict[str, str]
Call = Callable[[Params], Awaitable[object]]


async def version_of(conn: Connection, position: int) -> int:
    """The version, in its stream, of the event at ``position``."""
    version: int = await conn.fetchval(
        "SELECT originator_version FROM ledger_events WHERE notification_id = $1", position
    )
    return version


async def raw_history(conn: Connection, params: Params) -> object:
    """The history page for ``params``, by the SQL the server runs, through asyncpg."""
    statement, args = history_sql(msgspec.convert(params, HistoryQuery, strict=False))
    return await conn.fetch(statement, *args)


def raw_state_call(conn: Connection) -> Call:
    """The raw read of the state at ``params["version"]``."""
    return lambda params: raw_state(conn, int(params["version"]))


async def raw_state(conn: Connection, version: int) -> object:
    """Fetch and decode what a state at ``version`` is made of: the moment snapshot at or
    below it, and the stored events after the snapshot up to it."""
    stream = environment_id(audit_load.APP, audit_load.ENV)
    snapshot = await conn.fetchrow(SNAPSHOT_SQL, moment_id(stream), version)
    after = 0
    if snapshot is not None:
        moment_from(decoder_of(Snapshot).decode(snapshot["state"]))
        after = snapshot["originator_version"]
    events = await conn.fetch(EVENTS_SQL, stream, after, version)
    return [decoder_of(resolve_topic(e["topic"])).decode(e["state"]) for e in events]
