"""The checkpointer: appends one leaf per event in log order and signs checkpoints of the tree.

Leaf data = position (8 bytes, big-endian) || the event's hash. The leaves of a batch are
inserted in one transaction, so the leaves table is its own position. A checkpoint is written
after ``every_events`` new leaves, within about ``every_seconds`` of a new leaf, and on demand,
as a C2SP signed note whose origin is the ledger's (LEDGER_LOG_ORIGIN).
Before it extends the tree, it checks that the stored leaves still match the latest
checkpoint: it never signs a tree whose history was rewritten.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ledger.audit import sql
from ledger.audit.messages import Checkpoint
from ledger.audit.notes import checkpoint_note, origin_of
from ledger.audit.signing import Signer
from ledger.domain.chain import event_hash
from ledger.domain.merkle import TreeFrontier, event_leaf_data, leaf_hash
from ledger.eventstore.application import LedgerStore
from ledger.sql.columns import add_column
from ledger.sql.database import Connection, Database
from projections.follower import Batch, LogFollower, Ownership
from projections.rows import timestamp

log = logging.getLogger("ledger.audit")
LOAD_BATCH = 50_000


class TreeMismatch(Exception):
    """The stored leaves no longer give the root of the latest checkpoint."""


class StaleTree(Exception):
    """Another checkpointer appended leaves since this one loaded the tree."""


async def create_tables(database: Database) -> None:
    """Create the leaves and checkpoints tables when missing, with every column."""
    async with database.transaction() as conn:
        for statement in sql.SCHEMA[database.backend]:
            await conn.execute(statement)
        for table, column, kind in sql.ADDED_COLUMNS:
            await add_column(conn, database.backend, table, column, kind)


def row_of(row: dict[str, object]) -> Checkpoint:
    """A checkpoint from its table row."""
    note = None if row["note"] is None else str(row["note"])
    return Checkpoint(
        tree_size=int(str(row["tree_size"])),
        root_hash=str(row["root_hash"]),
        created_at=str(row["created_at"]),
        signature=None if row["signature"] is None else str(row["signature"]),
        key_id=None if row["key_id"] is None else str(row["key_id"]),
        origin=origin_of(note),
        note=note,
    )


class Checkpointer(LogFollower):
    """Follows the log into the Merkle tree and writes (signed) checkpoints of it."""

    name = "checkpointer"

    def __init__(
        self,
        store: LedgerStore,
        database: Database,
        signer: Signer | None,
        *,
        every_events: int = 1000,
        every_seconds: float = 10.0,
        ownership: Ownership | None = None,
    ) -> None:
        super().__init__(store, batch_size=2000, poll_seconds=1.0, ownership=ownership)
        self.database = database
        self.signer = signer
        self.origin = store.settings.checkpoint_origin()
        self.every_events = every_events
        self.every_seconds = every_seconds
        self.latest: Checkpoint | None = None
        self._tree: TreeFrontier | None = None
        self._last_checkpoint_at = 0.0
        self._lock = asyncio.Lock()
        self.listeners: list[Callable[[], None]] = []  # called after each new checkpoint

    @property
    def tree_size(self) -> int:
        """The number of leaves this checkpointer has appended or loaded."""
        return 0 if self._tree is None else self._tree.size

    async def load_position(self) -> int:
        """Load the tree from the stored leaves: its last leaf is the position."""
        await self._load_tree()
        return self.position

    async def step(self) -> int:
        """Append the next batch, and write a checkpoint when one is due."""
        if self._tree is None:
            await self._load_tree()
        count = await super().step()
        if self._due(time.monotonic()):
            await self.checkpoint()
        return count

    async def catch_up(self) -> int:
        """Append leaves for every event of the log; return how many were added."""
        added = 0
        while count := await self.step():
            added += count
        return added

    async def handle(self, batch: Batch) -> int:
        """Append the batch's leaves in one transaction; return the new position."""
        tree = self._tree
        assert tree is not None
        rows = [(tree.size + i, p, event_hash(e)) for i, (p, e) in enumerate(batch)]
        try:
            async with self._lock:
                async with self.database.transaction() as conn:
                    await _check_not_stale(conn, tree.size)
                    await conn.executemany(sql.INSERT_LEAF, rows)
                for _, position, hashed in rows:  # committed: the tree grows with the table
                    tree.append(leaf_hash(event_leaf_data(position, bytes.fromhex(hashed))))
        except StaleTree as error:
            log.warning("%s; resuming from the stored leaves", error)
            await self._load_tree()
            return self.position
        if self.latest is None or tree.size - self.latest.tree_size >= self.every_events:
            await self.checkpoint()
        return batch[-1][0]

    def _due(self, now: float) -> bool:
        if self._tree is None or self._tree.size == 0:
            return False
        covered = self.latest.tree_size if self.latest is not None else 0
        return self._tree.size > covered and now - self._last_checkpoint_at >= self.every_seconds

    async def checkpoint(self) -> Checkpoint | None:
        """Write a checkpoint of the tree as it is now (None when the tree is empty)."""
        async with self._lock:
            tree = self._tree
            if tree is None or tree.size == 0:
                return self.latest
            if self.latest is not None and self.latest.tree_size == tree.size:
                return self.latest
            checkpoint = self._signed(tree.size, tree.root().hex())
            await self.database.execute(
                sql.INSERT_CHECKPOINT,
                checkpoint.tree_size,
                checkpoint.root_hash,
                checkpoint.created_at,
                checkpoint.signature,
                checkpoint.key_id,
                checkpoint.note,
            )
            self.latest, self._last_checkpoint_at = checkpoint, time.monotonic()
        for listener in self.listeners:
            listener()
        return checkpoint

    def _signed(self, tree_size: int, root_hash: str) -> Checkpoint:
        """The checkpoint of the tree as a signed note (its body alone when unsigned)."""
        note, signature = checkpoint_note(self.origin, tree_size, root_hash, self.signer)
        return Checkpoint(
            tree_size=tree_size,
            root_hash=root_hash,
            created_at=timestamp(datetime.now(UTC)),
            signature=signature,
            key_id=None if self.signer is None else self.signer.key_id,
            origin=self.origin,
            note=note,
        )

    async def _load_tree(self) -> None:
        """Rebuild the tree from the stored leaves and check it against the latest checkpoint."""
        row = await self.database.fetchrow(sql.SELECT_LATEST_CHECKPOINT)
        latest = None if row is None else row_of(row)
        tree, position = TreeFrontier(), 0
        while leaves := await self.database.fetch(sql.SELECT_LEAVES, tree.size, LOAD_BATCH):
            position = int(leaves[-1]["position"])
            root = await asyncio.to_thread(_extend, tree, leaves, latest)
            if root is not None and latest is not None and root != latest.root_hash:
                raise TreeMismatch(
                    f"the stored leaves do not match checkpoint {latest.tree_size}: the audit "
                    "tables were altered; run `ledger verify`. No new checkpoint is signed."
                )
        if latest is not None and tree.size < latest.tree_size:
            raise TreeMismatch(
                f"the stored leaves end at {tree.size}, before checkpoint {latest.tree_size}: "
                "the audit tables were altered; run `ledger verify`."
            )
        self._tree, self.latest, self.position = tree, latest, position


async def _check_not_stale(conn: Connection, size: int) -> None:
    last = await conn.fetchrow(sql.SELECT_LAST_LEAF)
    stored = 0 if last is None else int(last["leaf_index"]) + 1
    if stored != size:
        raise StaleTree(f"another checkpointer appended leaves ({stored}, not {size})")


def _extend(
    tree: TreeFrontier, leaves: list[dict[str, object]], latest: Checkpoint | None
) -> str | None:
    """Append stored leaves to the tree; the root at the latest checkpoint's size, if passed."""
    root = None
    for leaf in leaves:
        if int(str(leaf["leaf_index"])) != tree.size:
            raise TreeMismatch(f"the stored leaves skip leaf {tree.size}: run `ledger verify`")
        position, hashed = int(str(leaf["position"])), str(leaf["event_hash"])
        tree.append(leaf_hash(event_leaf_data(position, bytes.fromhex(hashed))))
        if latest is not None and tree.size == latest.tree_size:
            root = tree.root().hex()
    return root
