"""Checkpoints as C2SP signed notes: signing the ledger's, and checking the signature of a
checkpoint in either format (a v1 statement before notes, a note since).

The same Ed25519 key signs both formats without ambiguity: a v1 statement's first line is
``release-ledger checkpoint v1``, which holds spaces, so it is never a note's origin line.
"""

from __future__ import annotations

from ledger.audit.messages import Checkpoint
from ledger.audit.signing import Signer, ed25519_is_valid, signature_is_valid
from ledger.domain.notes import (
    NoteSignature,
    checkpoint_body,
    key_hash,
    parse_checkpoint_body,
    signed_note,
    split_note,
)


def checkpoint_note(
    origin: str, tree_size: int, root_hash: str, signer: Signer | None
) -> tuple[str, str | None]:
    """The note of a tree and the signature in it (hex); unsigned: the body, and None."""
    body = checkpoint_body(origin, tree_size, bytes.fromhex(root_hash))
    if signer is None:
        return body, None
    signature = signer.sign_bytes(body.encode())
    line = NoteSignature(origin, key_hash(origin, signer.public_key), signature)
    return signed_note(body, [line]), signature.hex()


def origin_of(note: str | None) -> str | None:
    """A note's origin: its first line."""
    return None if note is None else note.split("\n", 1)[0]


def signature_problem(
    checkpoint: Checkpoint, public_key: bytes, key_name: str | None = None
) -> str | None:
    """Why the checkpoint's signature does not show that the key signed its tree, or None
    when it does. A note is checked as c2sp.org/signed-note says, under the key name
    ``key_name`` (default: the note's origin), and must name the checkpoint's tree."""
    if checkpoint.signature is None:
        return "it is not signed"
    if checkpoint.note is None:
        if signature_is_valid(public_key, checkpoint.statement(), checkpoint.signature):
            return None
        return "the signature is invalid (the checkpoint was changed or forged)"
    return note_problem(checkpoint, public_key, key_name)


def note_problem(
    checkpoint: Checkpoint, public_key: bytes, key_name: str | None = None
) -> str | None:
    """Why a note checkpoint's note does not hold a valid signature of its tree by the key."""
    assert checkpoint.note is not None
    try:
        body, signatures = split_note(checkpoint.note)
        tree = parse_checkpoint_body(body)
    except ValueError as error:
        return f"the note is malformed: {error}"
    if (tree.tree_size, tree.root_hash.hex()) != (checkpoint.tree_size, checkpoint.root_hash):
        return f"the note is of tree {tree.tree_size} {tree.root_hash.hex()}, not of this one"
    if checkpoint.origin not in (None, tree.origin):
        return f"the note's origin is {tree.origin!r}, not {checkpoint.origin!r}"
    name = key_name or tree.origin
    expected = key_hash(name, public_key)
    ours = [s for s in signatures if (s.name, s.key_hash) == (name, expected)]
    if not ours:
        return f"the note has no signature by the key named {name!r}"
    if all(s.signature.hex() != checkpoint.signature for s in ours):
        return "the note's signature is not the checkpoint's signature"
    if not all(ed25519_is_valid(public_key, body.encode(), s.signature) for s in ours):
        return "the note's signature is invalid (the note was changed or forged)"
    return None


def opened_note(note: str, key_name: str, public_key: bytes) -> tuple[str, list[NoteSignature]]:
    """The body of a note signed by the key named ``key_name``, and all its signatures;
    ValueError when the note is malformed, has no signature by the key, or one of that key's
    signatures fails (c2sp.org/signed-note: others' signatures are ignored)."""
    body, signatures = split_note(note)
    expected = key_hash(key_name, public_key)
    ours = [s for s in signatures if (s.name, s.key_hash) == (key_name, expected)]
    if not ours:
        raise ValueError(f"the note has no signature by the key {key_name!r} it is checked with")
    if not all(ed25519_is_valid(public_key, body.encode(), s.signature) for s in ours):
        raise ValueError(f"a signature by {key_name!r} is invalid (the note was changed or forged)")
    return body, signatures
