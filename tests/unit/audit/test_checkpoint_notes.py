"""Checkpoints as C2SP signed notes: the ledger's notes verify with a verifier written here
from the specifications (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), not with the
ledger's functions; an altered body, another key or another origin do not verify."""

from __future__ import annotations

import base64
import hashlib

import msgspec
import pytest

from ledger.audit.messages import Checkpoint, InclusionProof
from ledger.audit.notes import checkpoint_note, signature_problem
from ledger.audit.offline import verify_proof
from ledger.audit.signing import Signer, new_signing_key, parse_pinned_key
from ledger.domain.merkle import event_leaf_data, inclusion_proof, leaf_hash, tree_root
from ledger.domain.notes import NoteSignature, key_hash, signed_note, verifier_key

from ...signed_notes import checkpoint_lines, independent_verifier_key, independently_opened

SIGNER = Signer.from_base64(new_signing_key())
ORIGIN = "ledger.example.com/prod"
LEAVES = [leaf_hash(event_leaf_data(n + 1, hashlib.sha256(bytes([n])).digest())) for n in range(9)]
ROOT = tree_root(LEAVES).hex()


def test_the_go_reference_note_is_reproduced_byte_for_byte() -> None:
    """golang.org/x/mod/sumdb/note's example: its key, its text, its signed note."""
    seed = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
    signer = Signer.from_base64(base64.b64encode(seed).decode())
    text = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
    )
    name = "PeterNeumann"
    signature = NoteSignature(
        name, key_hash(name, signer.public_key), signer.sign_bytes(text.encode())
    )
    expected = (
        text + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
        "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    )
    assert signed_note(text, [signature]) == expected
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    assert verifier_key(name, signer.public_key) == vkey
    assert parse_pinned_key(vkey) == (signer.public_key, name)


def test_a_verifier_key_whose_base64_holds_a_plus_is_read() -> None:
    """transparency-dev/formats' test key: its hash checks out against its name and key."""
    vkey = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
    pinned = parse_pinned_key(vkey)
    assert pinned.name == "TEST" and len(pinned.public_key) == 32
    assert verifier_key("TEST", pinned.public_key) == vkey


def test_a_checkpoint_note_verifies_with_a_verifier_written_from_the_specification() -> None:
    note, signature = checkpoint_note(ORIGIN, len(LEAVES), ROOT, SIGNER)
    vkey = independent_verifier_key(ORIGIN, SIGNER.public_key)
    text = independently_opened(note, vkey)
    assert text is not None
    assert checkpoint_lines(text) == (ORIGIN, 9, ROOT)
    assert signature is not None and signature in base64.b64decode(note.split(" ")[-1]).hex()
    assert verifier_key(ORIGIN, SIGNER.public_key) == vkey


def test_an_altered_body_another_key_or_another_origin_does_not_verify() -> None:
    note, _ = checkpoint_note(ORIGIN, len(LEAVES), ROOT, SIGNER)
    vkey = independent_verifier_key(ORIGIN, SIGNER.public_key)
    grown = note.replace("\n9\n", "\n10\n", 1)
    assert independently_opened(grown, vkey) is None
    other = Signer.from_base64(new_signing_key())
    assert independently_opened(note, independent_verifier_key(ORIGIN, other.public_key)) is None
    assert (
        independently_opened(note, independent_verifier_key("other.example", SIGNER.public_key))
        is None
    )
    relabelled = note.replace(ORIGIN, "other.example")
    assert (
        independently_opened(
            relabelled, independent_verifier_key("other.example", SIGNER.public_key)
        )
        is None
    )


def note_checkpoint(size: int, origin: str = ORIGIN) -> Checkpoint:
    note, signature = checkpoint_note(origin, size, tree_root(LEAVES[:size]).hex(), SIGNER)
    return Checkpoint(
        tree_size=size,
        root_hash=tree_root(LEAVES[:size]).hex(),
        created_at="2026-05-07T14:03:00.000000Z",
        signature=signature,
        key_id=SIGNER.key_id,
        origin=origin,
        note=note,
    )


def test_the_ledger_checks_a_note_as_the_specification_does() -> None:
    checkpoint = note_checkpoint(9)
    assert signature_problem(checkpoint, SIGNER.public_key) is None
    assert signature_problem(checkpoint, SIGNER.public_key, ORIGIN) is None
    other = Signer.from_base64(new_signing_key())
    assert "no signature by the key" in (signature_problem(checkpoint, other.public_key) or "")
    assert signature_problem(checkpoint, SIGNER.public_key, "other.example") is not None
    for edit in (
        {"root_hash": "00" * 32},
        {"tree_size": 8},
        {"note": checkpoint.note.replace("\n9\n", "\n8\n")},  # type: ignore[union-attr]
        {"origin": "other.example"},
        {"signature": "00" * 64},
    ):
        edited = msgspec.structs.replace(checkpoint, **edit)
        assert signature_problem(edited, SIGNER.public_key) is not None, edit


def test_an_inclusion_proof_to_a_note_checkpoint_verifies_offline_with_the_verifier_key() -> None:
    proof = InclusionProof(
        position=4,
        leaf_index=3,
        event_hash=hashlib.sha256(bytes([3])).hexdigest(),
        leaf_hash=LEAVES[3].hex(),
        audit_path=[node.hex() for node in inclusion_proof(3, LEAVES[:9])],
        checkpoint=note_checkpoint(9),
    )
    pinned = parse_pinned_key(verifier_key(ORIGIN, SIGNER.public_key))
    assert verify_proof(proof, pinned.public_key, key_name=pinned.name).ok
    assert not verify_proof(proof, pinned.public_key, key_name="other.example").ok
    forged = msgspec.structs.replace(proof, checkpoint=note_checkpoint(9, "other.example"))
    assert not verify_proof(forged, pinned.public_key, key_name=pinned.name).ok


@pytest.mark.parametrize("text", ["", "not a key", "a+b+c", "x" * 64])
def test_a_pinned_key_that_is_no_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_pinned_key(text)
