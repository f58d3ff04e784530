"""Wire shapes of the audit: checkpoints, proofs and the verification report. Hashes, keys
and signatures are lowercase hex."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

from ledger.audit.signing import checkpoint_statement


class CheckpointCosignature(Struct, frozen=True, kw_only=True):
    """A witness's cosignature of a checkpoint (c2sp.org/tlog-cosignature): the witness's
    name and key hash (8 hex digits, type 0x04), when it cosigned (POSIX seconds), and the
    signature line to append to the checkpoint's note."""

    witness: str
    key_hash: str
    timestamp: int
    line: str


class Checkpoint(Struct, frozen=True, kw_only=True):
    """A signed statement of the tree: after ``tree_size`` leaves its root was ``root_hash``.

    Since checkpoints are notes, ``note`` is the C2SP signed note (``ledger.domain.notes``):
    the checkpoint body (``origin``, the size, the root in base64) and the ledger's signature
    line, its key name the origin; ``signature`` is the same Ed25519 signature of the body (in
    hex). A checkpoint made before (``note`` null, a v1 checkpoint) is signed over
    ``checkpoint_statement(tree_size, root_hash, created_at)``. Either way ``key_id`` names the
    key; ``public_key`` (and for a note ``verifier_key``) is shown when the server holds it.
    ``created_at`` is signed in a v1 checkpoint only."""

    tree_size: int
    root_hash: str
    created_at: str
    signature: str | None = None
    key_id: str | None = None
    public_key: str | None = None
    origin: str | None = None
    note: str | None = None
    verifier_key: str | None = None
    cosignatures: tuple[CheckpointCosignature, ...] = ()
    """The witnesses' cosignatures the ledger holds of this checkpoint (not verified here:
    check them with the witnesses' keys you trust)."""

    def statement(self) -> bytes:
        """The bytes the signature of a v1 checkpoint covers."""
        return checkpoint_statement(self.tree_size, self.root_hash, self.created_at)


class InclusionProof(Struct, frozen=True, kw_only=True, tag_field="type", tag="inclusion"):
    """The audit path of one event's leaf to a checkpoint's root (RFC 6962 PATH).

    The leaf's data is ``position`` (8 bytes, big-endian) followed by the 32 bytes of
    ``event_hash``; ``audit_path`` lists sibling hashes from the leaf up to the root."""

    position: int
    leaf_index: int
    event_hash: str
    leaf_hash: str
    audit_path: list[str]
    checkpoint: Checkpoint
    event_id: str | None = None


class ConsistencyProof(Struct, frozen=True, kw_only=True, tag_field="type", tag="consistency"):
    """Shows that the tree of checkpoint ``first`` is a prefix of the tree of ``second``
    (RFC 6962 PROOF): nothing checkpointed before was changed, removed or reordered."""

    first: Checkpoint
    second: Checkpoint
    proof: list[str]


Proof = InclusionProof | ConsistencyProof

Check = Literal["event", "stream", "chain", "leaf", "tree", "checkpoint", "signature", "witness"]


class Problem(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing the verifier found wrong, and where.

    ``check``: event (a stored event does not decode, or its content names another stream or
    version than its row), stream (a version is missing, repeated or out of order), chain (an
    event's prev_hash is not the hash of its stream's previous event), leaf (an event differs
    from, is missing from, or is absent in the checkpointed leaves), tree (a root does not
    match a checkpoint), checkpoint (a checkpoint names leaves that do not exist),
    signature (a checkpoint's signature is invalid), witness (the latest checkpoint lacks the
    cosignatures required, or a witness's cosignature no longer matches what it cosigned)."""

    check: Check
    detail: str
    position: int | None = None
    stream_id: str | None = None
    app: str | None = None
    env: str | None = None
    version: int | None = None
    leaf_index: int | None = None
    tree_size: int | None = None


SignatureState = Literal["valid", "invalid", "unsigned", "unknown-key", "none"]


class VerifyReport(Struct, kw_only=True):
    """The result of re-reading the whole log: ``ok`` is false when any problem was found."""

    ok: bool
    events: int
    streams: int
    head: int
    checkpoints: int
    latest_checkpoint: Checkpoint | None
    signature: SignatureState
    uncovered: int
    problems: list[Problem]
    warnings: list[str]
    seconds: float
    events_per_second: float
    cosignatures: int = 0
    """Valid cosignatures of the latest checkpoint by the witness keys the verifier was given."""


class ProofVerdict(Struct, frozen=True, kw_only=True):
    """The offline verifier's answer about one proof."""

    ok: bool
    summary: str
    problems: list[str]


class WitnessStatus(Struct, kw_only=True):
    """What the ledger knows of one witness: the tree it holds of this log (the last one it
    cosigned, or the size it said it has), and the last failure to get a cosignature."""

    witness: str
    """The witness's verifier key."""
    url: str
    tree_size: int = 0
    root_hash: str | None = None
    """Hex root of ``tree_size`` when the witness cosigned this ledger's checkpoint of it."""
    cosigned_at: str | None = None
    error: str | None = None
    failing_since: str | None = None
    checked_at: str = ""
