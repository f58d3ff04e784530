"""A ledger upgraded in place, on both backends: its events stored before (hash scheme 1) and
its v1 checkpoint stay valid beside new events (scheme 2) and checkpoints as signed notes, and
tampering with either kind is still found."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from ledger.audit import Checkpointer
from ledger.audit.messages import Checkpoint
from ledger.domain.decisions import streams
from ledger.domain.names import environment_id
from projections.rows import timestamp

from ...signed_notes import checkpoint_lines, independent_verifier_key, independently_opened

SHOP_PROD = environment_id("shop", "prod")


class CheckpointerBeforeNotes(Checkpointer):
    """The checkpointer as the ledger ran it before notes: a signed four-line statement."""

    def _signed(self, tree_size: int, root_hash: str) -> Checkpoint:
        assert self.signer is not None
        created_at = timestamp(datetime.now(UTC))
        v1 = Checkpoint(tree_size=tree_size, root_hash=root_hash, created_at=created_at)
        signature = self.signer.sign(v1.statement())
        return msgspec.structs.replace(v1, signature=signature, key_id=self.signer.key_id)


@pytest.fixture
async def upgraded(
    story: Any, store: Any, audit: Any, checkpointer: Checkpointer, monkeypatch: Any
) -> tuple[int, int]:
    """Events and a v1 checkpoint written before the upgrade, then events and a note after;
    the two checkpoints' tree sizes."""
    with monkeypatch.context() as before:
        before.setattr(streams, "HASH_SCHEME", 1)
        await story.begins()
        old = CheckpointerBeforeNotes(store, audit.database, audit.signer)
        await old.catch_up()
        assert old.latest is not None and old.latest.note is None
    await story.ends()
    await checkpointer.catch_up()
    latest = await checkpointer.checkpoint()
    assert latest is not None and latest.note is not None
    return old.latest.tree_size, latest.tree_size


async def test_old_events_and_v1_checkpoints_verify_beside_new_ones(
    upgraded: tuple[int, int], tamperer: Any, audit: Any, verify: Any, signing_key: str
) -> None:
    v1_size, note_size = upgraded
    states = [row.state for row in tamperer.rows()]
    assert not any(b"hash_scheme" in state for state in states[:v1_size])
    assert all(b'"hash_scheme":3' in state for state in states[v1_size:])

    report = verify()
    assert report.ok, report.problems
    assert (report.checkpoints, report.signature, report.events) == (2, "valid", note_size)

    rows = await audit.database.fetch("SELECT tree_size, note FROM ledger_checkpoints")
    notes = {int(r["tree_size"]): r["note"] for r in rows}
    assert notes[v1_size] is None
    latest = await audit.latest()
    assert latest.origin == "release-ledger"  # neither LEDGER_LOG_ORIGIN nor a public URL
    vkey = independent_verifier_key(latest.origin, audit.signer.public_key)
    assert latest.verifier_key == vkey
    text = independently_opened(notes[note_size], vkey)
    assert text is not None
    assert checkpoint_lines(text) == (latest.origin, note_size, latest.root_hash)


async def test_tampering_with_either_scheme_or_either_format_is_found(
    upgraded: tuple[int, int], tamperer: Any, audit: Any, verify: Any, named: Any
) -> None:
    v1_size, _ = upgraded
    rows = tamperer.of(SHOP_PROD)
    old, new = rows[1], rows[-1]
    assert b"hash_scheme" not in old.state and b"hash_scheme" in new.state
    tamperer.edit(old.position, actor="mallory")
    relabelled = {k: v for k, v in new.event().items() if k != "hash_scheme"}
    tamperer.overwrite(new.position, msgspec.json.encode(relabelled))  # claims scheme 1
    await audit.database.execute(
        "UPDATE ledger_checkpoints SET created_at = $1 WHERE tree_size = $2",
        "2020-01-01T00:00:00.000000Z",
        v1_size,
    )

    report = verify()
    assert not report.ok
    assert named(report, "leaf", position=old.position)
    assert named(report, "leaf", position=new.position)
    assert named(report, "signature", tree_size=v1_size)
