"""The ledger's record of its witnesses: the cosignatures each returned (``ledger_cosignatures``)
and the tree each holds of this log, with its last failure (``ledger_witnesses``)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from ledger.audit import sql
from ledger.audit.messages import Checkpoint, WitnessStatus
from ledger.sql.database import Database
from projections.rows import timestamp


def now() -> str:
    """The time as the audit tables store it."""
    return timestamp(datetime.now(UTC))


class WitnessStore:
    """Reads and writes the witnesses' state and cosignatures."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def status(self, witness: str, url: str) -> WitnessStatus:
        """What is known of a witness (by its verifier key); a new one holds nothing yet."""
        row = await self.database.fetchrow(sql.SELECT_WITNESS, witness)
        if row is None:
            return WitnessStatus(witness=witness, url=url, checked_at=now())
        status = _status(row)
        status.url = url
        return status

    async def all(self) -> list[WitnessStatus]:
        return [_status(row) for row in await self.database.fetch(sql.SELECT_WITNESSES)]

    async def cosigned(self, status: WitnessStatus, checkpoint: Checkpoint, line: str) -> None:
        """Store the witness's cosignature of the checkpoint, and that it holds its tree."""
        at = now()
        status.tree_size, status.root_hash = checkpoint.tree_size, checkpoint.root_hash
        status.cosigned_at, status.checked_at = at, at
        status.error = status.failing_since = None
        async with self.database.transaction() as conn:
            await conn.execute(
                sql.INSERT_COSIGNATURE, checkpoint.tree_size, status.witness, line, at
            )
            await conn.execute(sql.UPSERT_WITNESS, *_row(status))

    async def holds(self, status: WitnessStatus, tree_size: int) -> None:
        """The witness said it holds a tree of this size (a 409): start from there."""
        status.tree_size, status.root_hash, status.checked_at = tree_size, None, now()
        await self.database.execute(sql.UPSERT_WITNESS, *_row(status))

    async def failed(self, status: WitnessStatus, error: str) -> None:
        """Record why the witness did not cosign, and since when it has not."""
        at = now()
        status.error, status.checked_at = error, at
        status.failing_since = status.failing_since or at
        await self.database.execute(sql.UPSERT_WITNESS, *_row(status))

    async def cosignatures(self, tree_size: int) -> list[tuple[str, str]]:
        """The witness (verifier key) and line of each cosignature of a checkpoint."""
        rows = await self.database.fetch(sql.SELECT_COSIGNATURES_OF, tree_size)
        return [(str(row["witness"]), str(row["line"])) for row in rows]


def _status(row: dict[str, object]) -> WitnessStatus:
    return msgspec.convert(row, WitnessStatus)


def _row(status: WitnessStatus) -> tuple[object, ...]:
    return tuple(getattr(status, field) for field in sql.WITNESS_FIELDS)
