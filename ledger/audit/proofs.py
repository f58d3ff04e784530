"""The read side of the audit: checkpoints, inclusion proofs and consistency proofs.

A proof is computed from the stored leaves up to the checkpoint's size (O(n) hashing, done in
a thread); clients check it against the checkpoint's signed root, never against this server.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import msgspec

from ledger.audit import sql
from ledger.audit.checkpointer import row_of
from ledger.audit.cosigning import WitnessKey, cosigned_by
from ledger.audit.messages import (
    Checkpoint,
    CheckpointCosignature,
    ConsistencyProof,
    InclusionProof,
)
from ledger.audit.signing import Signer
from ledger.audit.witness_store import WitnessStore
from ledger.domain.cosignatures import cosignature_of
from ledger.domain.errors import Invalid, NotFound
from ledger.domain.merkle import consistency_proof, event_leaf_data, inclusion_proof, leaf_hash
from ledger.domain.notes import parse_signature_line, split_note, verifier_key
from ledger.sql.database import Database

LEAF_BATCH = 50_000


class AuditLog:
    """Checkpoints and proofs of the tree, read from the audit tables."""

    def __init__(self, database: Database, signer: Signer | None) -> None:
        self.database = database
        self.signer = signer
        self.witnesses = WitnessStore(database)

    async def latest(self) -> Checkpoint | None:
        """The newest checkpoint, or None before the first."""
        row = await self.database.fetchrow(sql.SELECT_LATEST_CHECKPOINT)
        return None if row is None else await self._shown(row_of(row))

    async def checkpoint(self, tree_size: int) -> Checkpoint:
        """The checkpoint of a tree size; NotFound when there is none."""
        row = await self.database.fetchrow(sql.SELECT_CHECKPOINT, tree_size)
        if row is None:
            raise NotFound(f"there is no checkpoint of tree size {tree_size}")
        return await self._shown(row_of(row))

    async def inclusion(self, event_id: UUID, tree_size: int | None) -> InclusionProof:
        """The audit path of an event to a checkpoint (the latest one by default)."""
        checkpoint = await self._checkpoint_or_latest(tree_size)
        found = await self.database.fetchrow(sql.SELECT_POSITION_OF_EVENT, str(event_id))
        if found is None:
            raise NotFound(f"event {event_id} is not in the history (or not yet projected)")
        position = int(found["position"])
        leaf = await self.database.fetchrow(sql.SELECT_LEAF_AT, position)
        if leaf is None or int(leaf["leaf_index"]) >= checkpoint.tree_size:
            raise NotFound(
                f"event {event_id} (position {position}) is not in the tree of checkpoint "
                f"{checkpoint.tree_size}: ask again after the next checkpoint"
            )
        index, event_hash = int(leaf["leaf_index"]), str(leaf["event_hash"])
        leaves = await self._leaf_hashes(checkpoint.tree_size)
        path = await asyncio.to_thread(inclusion_proof, index, leaves)
        return InclusionProof(
            event_id=str(event_id),
            position=position,
            leaf_index=index,
            event_hash=event_hash,
            leaf_hash=leaves[index].hex(),
            audit_path=[node.hex() for node in path],
            checkpoint=checkpoint,
        )

    async def consistency(self, first: int, second: int) -> ConsistencyProof:
        """The proof that checkpoint ``first``'s tree is a prefix of checkpoint ``second``'s."""
        if first > second:
            raise Invalid(f"the first tree size ({first}) is larger than the second ({second})")
        old, new = await self.checkpoint(first), await self.checkpoint(second)
        proof = await self.consistency_nodes(first, second)
        return ConsistencyProof(first=old, second=new, proof=[node.hex() for node in proof])

    async def consistency_nodes(self, first: int, second: int) -> list[bytes]:
        """PROOF(first, D[second]) from the stored leaves, whether or not checkpoints of those
        sizes exist (a witness may hold a size it told of)."""
        leaves = await self._leaf_hashes(second)
        return await asyncio.to_thread(consistency_proof, first, leaves)

    async def _shown(self, checkpoint: Checkpoint) -> Checkpoint:
        """The checkpoint with the key that signed it and the witnesses' cosignatures."""
        shown = with_public_key(checkpoint, self.signer)
        lines = await self.witnesses.cosignatures(checkpoint.tree_size)
        if not lines or checkpoint.note is None:
            return shown
        body = split_note(checkpoint.note)[0]
        cosignatures = tuple(
            cosignature_shown(line) for witness, line in lines if _cosigns(body, witness, line)
        )
        return msgspec.structs.replace(shown, cosignatures=cosignatures)

    async def _checkpoint_or_latest(self, tree_size: int | None) -> Checkpoint:
        if tree_size is not None:
            return await self.checkpoint(tree_size)
        latest = await self.latest()
        if latest is None:
            raise NotFound("there is no checkpoint yet")
        return latest

    async def _leaf_hashes(self, size: int) -> list[bytes]:
        """The hashes of the first ``size`` leaves, as stored."""
        hashes: list[bytes] = []
        while len(hashes) < size:
            rows = await self.database.fetch(
                sql.SELECT_LEAVES, len(hashes), min(LEAF_BATCH, size - len(hashes))
            )
            if not rows:
                break
            hashes += await asyncio.to_thread(_hashed, rows)
        if len(hashes) != size:
            raise NotFound(f"the tree has only {len(hashes)} leaves, not {size}")
        return hashes


def _hashed(rows: list[dict[str, object]]) -> list[bytes]:
    return [
        leaf_hash(event_leaf_data(int(str(r["position"])), bytes.fromhex(str(r["event_hash"]))))
        for r in rows
    ]


def with_public_key(checkpoint: Checkpoint, signer: Signer | None) -> Checkpoint:
    """The checkpoint with the signer's public key (and, for a note, its verifier key under
    the note's origin), when that key signed it."""
    if signer is None or checkpoint.key_id != signer.key_id:
        return checkpoint
    origin = checkpoint.origin
    return msgspec.structs.replace(
        checkpoint,
        public_key=signer.public_key.hex(),
        verifier_key=None if origin is None else verifier_key(origin, signer.public_key),
    )


def _cosigns(body: str, witness: str, line: str) -> bool:
    """Whether a stored line is the witness's valid cosignature of the body: one that is not
    (the checkpoint was replaced after the witness cosigned it) is not served with it;
    `ledger verify` names it."""
    try:
        key = WitnessKey.parse(witness)
        signature = parse_signature_line(line.removesuffix("\n"))
    except ValueError:
        return False
    return cosigned_by(body, [signature], key) is not None


def cosignature_shown(line: str) -> CheckpointCosignature:
    """A stored cosignature line, with its witness, key hash and time read from it."""
    cosignature = cosignature_of(parse_signature_line(line.removesuffix("\n")))
    return CheckpointCosignature(
        witness=cosignature.name,
        key_hash=cosignature.key_hash.hex(),
        timestamp=cosignature.timestamp,
        line=line,
    )
