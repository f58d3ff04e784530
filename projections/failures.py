"""The events a follower could not handle: recorded, passed over, listed, and retried.

A follower (the projections, the NATS publisher, a webhook) that meets an event it cannot
handle — a projector's exception, a row the database refuses, a message that cannot be made —
records it here and goes on with the next one, so one bad event never stops it. Errors that
mean the database or a receiver is away are never recorded: the follower retries those.
"""

from __future__ import annotations

from datetime import UTC, datetime

from msgspec import Struct

from ledger.sql.database import Connection, Database
from projections import sql
from projections.rows import storable, timestamp

MAX_ERROR_LENGTH = 2000


class Failure(Struct, frozen=True, kw_only=True):
    """One event a follower passed over, and why."""

    follower: str
    position: int
    event_id: str | None
    error: str
    failed_at: str


def describe(error: BaseException) -> str:
    """The error as one storable line of text: its type and message."""
    text = f"{type(error).__name__}: {error}"
    return storable(text)[:MAX_ERROR_LENGTH]


async def record(
    conn: Connection, follower: str, position: int, event_id: str | None, error: BaseException
) -> None:
    """Record (inside the caller's transaction) that ``follower`` passed over ``position``."""
    failed_at = timestamp(datetime.now(UTC))
    await conn.execute(sql.RECORD_FAILURE, follower, position, event_id, describe(error), failed_at)


async def pass_over(
    database: Database,
    tracking: str,
    follower: str,
    positions: tuple[int, int],
    event_id: str | None,
    error: BaseException,
) -> bool:
    """Move the position tracked as ``tracking`` from start past the event at position and
    record the event as ``follower``'s failure, in one transaction; False (and nothing done)
    when the position was no longer start."""
    start, position = positions
    async with database.transaction() as conn:
        if await conn.execute(sql.ADVANCE_POSITION, tracking, position, start) != 1:
            return False
        await record(conn, follower, position, event_id, error)
    return True


async def failures(database: Database, follower: str | None = None) -> list[Failure]:
    """The failures recorded (of one follower, or of all), by follower and position."""
    rows = await database.fetch(sql.SELECT_FAILURES)
    found = [Failure(**row) for row in rows]
    return [f for f in found if follower is None or f.follower == follower]


async def forget(conn: Connection, follower: str, position: int | None = None) -> None:
    """Remove a follower's failure at ``position`` (every one of them, without a position)."""
    if position is None:
        await conn.execute(sql.DELETE_FAILURES_OF, follower)
    else:
        await conn.execute(sql.DELETE_FAILURE, follower, position)


def failed_positions(found: list[Failure]) -> dict[str, list[int]]:
    """The positions each follower passed over (what /readyz names)."""
    by_follower: dict[str, list[int]] = {}
    for failure in found:
        by_follower.setdefault(failure.follower, []).append(failure.position)
    return by_follower
