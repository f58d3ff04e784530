"""The auditor's offline verifier: a genuine proof of a signed checkpoint verifies; a forged
proof, an edited checkpoint, another key or a missing signature do not."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import msgspec
import pytest

from ledger.audit.messages import Checkpoint, ConsistencyProof, InclusionProof
from ledger.audit.offline import verify_proof, verify_proof_json
from ledger.audit.signing import (
    KEY_FILE,
    Signer,
    key_id_of,
    load_signer,
    new_signing_key,
    parse_public_key,
    signature_is_valid,
)
from ledger.domain.merkle import (
    consistency_proof,
    event_leaf_data,
    inclusion_proof,
    leaf_hash,
    tree_root,
)
from ledger.settings import Settings

SIGNER = Signer.from_base64(new_signing_key())
EVENT_HASHES = [hashlib.sha256(f"event {n}".encode()).digest() for n in range(40)]
POSITIONS = [n * 2 + 1 for n in range(40)]  # positions may have gaps
LEAVES = [leaf_hash(event_leaf_data(p, h)) for p, h in zip(POSITIONS, EVENT_HASHES, strict=True)]


def signed(size: int, signer: Signer | None = SIGNER) -> Checkpoint:
    unsigned = Checkpoint(
        tree_size=size,
        root_hash=tree_root(LEAVES[:size]).hex(),
        created_at="2026-05-07T14:03:00.000000Z",
    )
    if signer is None:
        return unsigned
    return msgspec.structs.replace(
        unsigned,
        signature=signer.sign(unsigned.statement()),
        key_id=signer.key_id,
        public_key=signer.public_key.hex(),
    )


def inclusion(index: int, size: int, signer: Signer | None = SIGNER) -> InclusionProof:
    return InclusionProof(
        position=POSITIONS[index],
        leaf_index=index,
        event_hash=EVENT_HASHES[index].hex(),
        leaf_hash=LEAVES[index].hex(),
        audit_path=[node.hex() for node in inclusion_proof(index, LEAVES[:size])],
        checkpoint=signed(size, signer),
    )


def consistency(old: int, new: int) -> ConsistencyProof:
    proof = consistency_proof(old, LEAVES[:new])
    return ConsistencyProof(
        first=signed(old), second=signed(new), proof=[node.hex() for node in proof]
    )


def as_json(proof: InclusionProof | ConsistencyProof) -> bytes:
    return msgspec.json.encode(proof)


def test_a_genuine_inclusion_proof_verifies_with_the_pinned_key() -> None:
    verdict = verify_proof_json(as_json(inclusion(17, 33)), SIGNER.public_key)
    assert verdict.ok, verdict.problems
    assert f"position {POSITIONS[17]} (leaf 17)" in verdict.summary
    assert "checkpoint 33" in verdict.summary


def test_a_genuine_consistency_proof_verifies() -> None:
    verdict = verify_proof_json(as_json(consistency(13, 40)), SIGNER.public_key)
    assert verdict.ok, verdict.problems
    assert "checkpoint 13 is a prefix of checkpoint 40" in verdict.summary


def test_without_a_pinned_key_the_documents_key_is_used_and_said_to_be_unpinned() -> None:
    verdict = verify_proof(inclusion(3, 8))
    assert verdict.ok
    assert "key not pinned" in verdict.summary


@pytest.mark.parametrize(
    "forge",
    [
        {"event_hash": hashlib.sha256(b"another event").hexdigest()},
        {"position": POSITIONS[17] + 1},
        {"leaf_index": 18},
        {"audit_path": lambda p: _flip_first(p)},
        {"audit_path": lambda p: p.audit_path[:-1]},
        {"leaf_hash": LEAVES[18].hex()},
    ],
    ids=["event-hash", "position", "leaf-index", "path-node", "short-path", "leaf-hash"],
)
def test_a_forged_inclusion_proof_is_rejected(forge: dict[str, object]) -> None:
    genuine = inclusion(17, 33)
    changes = {k: v(genuine) if callable(v) else v for k, v in forge.items()}
    forged = msgspec.structs.replace(genuine, **changes)
    verdict = verify_proof_json(as_json(forged), SIGNER.public_key)
    assert not verdict.ok
    assert verdict.problems


def _flip_first(proof: InclusionProof) -> list[str]:
    """The audit path with the last hex digit of its first node changed."""
    first = proof.audit_path[0]
    return [first[:-1] + ("1" if first[-1] == "0" else "0"), *proof.audit_path[1:]]


@pytest.mark.parametrize(
    "edit",
    [
        {"tree_size": 34},
        {"root_hash": tree_root(LEAVES[:34]).hex()},
        {"created_at": "2026-05-07T14:03:01.000000Z"},
    ],
    ids=["tree-size", "root-hash", "created-at"],
)
def test_an_edited_checkpoint_fails_its_signature(edit: dict[str, object]) -> None:
    genuine = inclusion(17, 33)
    forged = msgspec.structs.replace(
        genuine, checkpoint=msgspec.structs.replace(genuine.checkpoint, **edit)
    )
    verdict = verify_proof(forged, SIGNER.public_key)
    assert not verdict.ok
    assert any("signature is invalid" in p for p in verdict.problems)


def test_a_rewritten_log_has_no_valid_consistency_proof() -> None:
    genuine = consistency(13, 40)
    rewritten = [*LEAVES[:5], leaf_hash(b"forged"), *LEAVES[6:]]
    forged = msgspec.structs.replace(
        genuine,
        proof=[node.hex() for node in consistency_proof(13, rewritten)],
        second=msgspec.structs.replace(genuine.second, root_hash=tree_root(rewritten).hex()),
    )
    verdict = verify_proof(forged, SIGNER.public_key)
    assert not verdict.ok


def test_a_checkpoint_signed_by_another_key_is_rejected_when_the_key_is_pinned() -> None:
    impostor = Signer.from_base64(new_signing_key())
    verdict = verify_proof(inclusion(2, 5, signer=impostor), SIGNER.public_key)
    assert not verdict.ok
    assert any(f"signed by key {impostor.key_id}" in p for p in verdict.problems)


def test_an_unsigned_checkpoint_proves_nothing_unless_allowed() -> None:
    proof = inclusion(2, 5, signer=None)
    assert not verify_proof(proof, SIGNER.public_key).ok
    assert verify_proof(proof, SIGNER.public_key, allow_unsigned=True).ok


def test_a_document_that_is_not_a_proof_is_rejected() -> None:
    assert not verify_proof_json(b'{"type": "inclusion"}').ok
    assert not verify_proof_json(b"not json").ok
    bad_hex = msgspec.structs.replace(inclusion(1, 4), event_hash="zz")
    assert not verify_proof(bad_hex, SIGNER.public_key).ok


def test_a_signature_covers_the_statement_and_the_key_id_names_the_key() -> None:
    statement = signed(4).statement()
    assert statement.decode().splitlines() == [
        "release-ledger checkpoint v1",
        "tree_size 4",
        f"root_hash {tree_root(LEAVES[:4]).hex()}",
        "created_at 2026-05-07T14:03:00.000000Z",
    ]
    signature = SIGNER.sign(statement)
    assert signature_is_valid(SIGNER.public_key, statement, signature)
    assert not signature_is_valid(SIGNER.public_key, statement + b"x", signature)
    assert SIGNER.key_id == hashlib.sha256(SIGNER.public_key).hexdigest()[:16]
    assert key_id_of(SIGNER.public_key) == SIGNER.key_id
    assert parse_public_key(SIGNER.public_key.hex()) == SIGNER.public_key
    assert parse_public_key(base64.b64encode(SIGNER.public_key).decode()) == SIGNER.public_key


def test_the_embedded_ledger_generates_its_key_once_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert load_signer(settings, None, create=False) is None
    first = load_signer(settings, None, create=True)
    assert first is not None
    path = settings.data_dir / KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = load_signer(settings, None, create=True)
    assert again is not None and again.key_id == first.key_id
    assert list(settings.data_dir.iterdir()) == [path]


def test_postgres_without_a_key_signs_nothing_and_a_given_key_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://db/ledger")
    assert load_signer(settings, None, create=True) is None
    assert list(tmp_path.iterdir()) == []
    key = new_signing_key()
    signer = load_signer(settings, key, create=True)
    assert signer is not None and signer.key_id == Signer.from_base64(key).key_id


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_signing_key_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match="signing key"):
        Signer.from_base64(bad)
