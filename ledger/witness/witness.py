"""The witness's decision on an add-checkpoint request (c2sp.org/tlog-witness), in the order
the specification gives: a malformed request is 400; an origin it does not witness, 404; a
checkpoint no trusted key signed, 403; an old size above the checkpoint's, 400; an old size
that is not the witness's, 409 with its size; a checkpoint of the witness's size with another
root (a fork), 409; a consistency proof that fails (a fork, or a bad proof), 422. Otherwise the
new tree is stored, then cosigned.

Requests for one origin are taken one at a time, and the stored tree moves on only from the
one that was checked, so two requests can never both advance a log from the same size."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import NamedTuple

from ledger.audit.cosigning import Cosigner
from ledger.audit.notes import opened_note
from ledger.domain.cosignatures import Cosignature
from ledger.domain.merkle import verify_consistency
from ledger.domain.notes import CheckpointBody, parse_checkpoint_body, split_note
from ledger.domain.witness_protocol import AddCheckpoint, parse_add_checkpoint
from ledger.witness.config import WitnessedLog
from ledger.witness.state import TreeHead, WitnessState

log = logging.getLogger("ledger.witness")


class Refused(Exception):
    """The witness does not cosign: the HTTP status, why, and the field at fault; a 409
    carries the size the witness has."""

    def __init__(
        self, status: int, detail: str, field: str = "checkpoint", size: int | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.size = size


class Checked(NamedTuple):
    """A request whose checkpoint is signed by a log this witness witnesses."""

    request: AddCheckpoint
    body: str
    tree: CheckpointBody


class Witness:
    """Cosigns each checkpoint consistent with the last one it cosigned of the same log."""

    def __init__(
        self, cosigner: Cosigner, logs: dict[str, list[WitnessedLog]], state: WitnessState
    ) -> None:
        self.cosigner = cosigner
        self.logs = logs
        self.state = state
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def add_checkpoint(self, text: str) -> list[Cosignature]:
        """The witness's cosignature of the request's checkpoint; Refused otherwise."""
        checked = self._signed(self._parsed(text))
        tree = checked.tree
        async with self._locks[tree.origin]:
            known = await asyncio.to_thread(self.state.latest, tree.origin)
            try:
                self._check_consistent(checked, known)
            except Refused as refused:
                _log_refusal(checked, known, refused)
                raise
            new = TreeHead(tree.tree_size, tree.root_hash)
            if not await asyncio.to_thread(self.state.advance, tree.origin, known, new):
                moved = await asyncio.to_thread(self.state.latest, tree.origin)
                raise Refused(409, "the log's tree moved on meanwhile", "old", moved.size)
        log.info(
            "cosigned %s at size %d",
            tree.origin,
            tree.tree_size,
            extra={"origin": tree.origin, "tree_size": tree.tree_size, "old_size": known.size},
        )
        return [self.cosigner.cosign(checked.body)]

    def _parsed(self, text: str) -> AddCheckpoint:
        try:
            return parse_add_checkpoint(text)
        except ValueError as error:
            raise Refused(400, f"the request is malformed: {error}", "body") from None

    def _signed(self, request: AddCheckpoint) -> Checked:
        """The request's checkpoint, signed by a key this witness trusts for its origin."""
        try:
            body, _ = split_note(request.note)
            tree = parse_checkpoint_body(body)
        except ValueError as error:
            raise Refused(400, f"the checkpoint is malformed: {error}") from None
        keys = self.logs.get(tree.origin)
        if not keys:
            raise Refused(404, f"this witness does not witness the log {tree.origin!r}")
        problems = []
        for key in keys:
            try:
                opened_note(request.note, key.origin, key.public_key)
            except ValueError as error:
                problems.append(str(error))
            else:
                return Checked(request, body, tree)
        log.warning(
            "refused a checkpoint of %s: %s",
            tree.origin,
            "; ".join(problems),
            extra={"origin": tree.origin, "tree_size": tree.tree_size, "note": request.note},
        )
        raise Refused(403, f"the checkpoint's signature does not verify: {'; '.join(problems)}")

    def _check_consistent(self, checked: Checked, known: TreeHead) -> None:
        """The checkpoint follows on from the tree last cosigned, by the request's proof."""
        request, tree = checked.request, checked.tree
        if request.old_size > tree.tree_size:
            raise Refused(
                400,
                f"the old size {request.old_size} is larger than the checkpoint's size "
                f"{tree.tree_size}",
                "old",
            )
        if request.old_size != known.size:
            raise Refused(
                409,
                f"the old size {request.old_size} is not the size this witness last cosigned "
                f"for {tree.origin} ({known.size})",
                "old",
                known.size,
            )
        if known.size == tree.tree_size > 0 and known.root != tree.root_hash:
            raise Refused(
                409,
                f"this witness cosigned another root at size {known.size} for {tree.origin}",
                "checkpoint",
                known.size,
            )
        new_size, new_root = tree.tree_size, tree.root_hash
        if not verify_consistency(known.size, new_size, known.root, new_root, request.proof):
            raise Refused(
                422,
                f"the consistency proof does not show that the tree of size {known.size} "
                f"cosigned for {tree.origin} is a prefix of the checkpoint of size {new_size}",
                "proof",
            )


def _log_refusal(checked: Checked, known: TreeHead, refused: Refused) -> None:
    """Say why a signed checkpoint was refused, with the note: it may prove the log lied."""
    tree = checked.tree
    log.warning(
        "refused checkpoint %d of %s (cosigned: %d): %s%s",
        tree.tree_size,
        tree.origin,
        known.size,
        refused.detail,
        _verdict(checked, known, refused),
        extra={
            "origin": tree.origin,
            "tree_size": tree.tree_size,
            "old_size": checked.request.old_size,
            "cosigned_size": known.size,
            "status": refused.status,
            "note": checked.request.note,
        },
    )


def _verdict(checked: Checked, known: TreeHead, refused: Refused) -> str:
    """What a refusal says of the log, where it says something."""
    tree = checked.tree
    if tree.tree_size < known.size:
        return (
            f": a rollback, the log signed a tree of {tree.tree_size} after the witness "
            f"cosigned {known.size}, unless this request is stale"
        )
    if tree.tree_size == known.size and tree.root_hash != known.root:
        return ": a fork, the log signed two different trees of this size"
    if refused.status == 422:
        return ": a fork, unless the log sent a wrong proof"
    return ""
