"""The auditor's verifier: checks a proof document offline, trusting nothing but the public key.

    from ledger.audit.offline import verify_proof_json
    verdict = verify_proof_json(open("proof.json", "rb").read(), public_key=PINNED_KEY)
    assert verdict.ok, verdict.problems

An inclusion proof shows that the event with ``event_hash`` sits at ``position`` in the tree
whose root a checkpoint signed; a consistency proof shows that an older checkpoint's tree is a
prefix of a newer one's. Either is only as good as its checkpoints' signatures: pin the
ledger's public key (``public_key``) rather than trusting the one the document carries.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ledger.audit.cosigning import WitnessKey, cosigners
from ledger.audit.messages import Checkpoint, ConsistencyProof, InclusionProof, ProofVerdict
from ledger.audit.notes import opened_note, signature_problem
from ledger.audit.signing import key_id_of
from ledger.domain.merkle import event_leaf_data, leaf_hash, verify_consistency, verify_inclusion
from ledger.domain.notes import (
    NoteSignature,
    parse_checkpoint_body,
    parse_signature_line,
    split_note,
)

_decoder = msgspec.json.Decoder(InclusionProof | ConsistencyProof)


def verify_proof_json(
    document: bytes | str,
    public_key: bytes | None = None,
    *,
    allow_unsigned: bool = False,
    key_name: str | None = None,
    witnesses: Sequence[WitnessKey] = (),
    min_cosignatures: int = 0,
) -> ProofVerdict:
    """Verify a proof document (JSON) as the ledger serves it: an inclusion proof (from
    GET /v1/events/{id}/proof) or a consistency proof (GET /v1/checkpoints/{a}/consistency/{b}).
    With ``witnesses``, the proof's checkpoint (the second of a consistency proof) must carry
    ``min_cosignatures`` valid cosignatures by them."""
    try:
        proof = _decoder.decode(document)
    except msgspec.DecodeError as error:
        return ProofVerdict(ok=False, summary="not a proof document", problems=[str(error)])
    verdict = verify_proof(proof, public_key, allow_unsigned=allow_unsigned, key_name=key_name)
    if not witnesses:
        return verdict
    checkpoint = proof.checkpoint if isinstance(proof, InclusionProof) else proof.second
    lines = [parse_signature_line(c.line.rstrip("\n")) for c in checkpoint.cosignatures]
    count, problems = witness_problems(checkpoint.note, lines, witnesses, min_cosignatures)
    return ProofVerdict(
        ok=verdict.ok and not problems,
        summary=f"{verdict.summary}, cosigned by {count} of the witnesses given",
        problems=verdict.problems + problems,
    )


def verify_note(
    note: str,
    public_key: bytes | None,
    *,
    key_name: str | None = None,
    witnesses: Sequence[WitnessKey] = (),
    min_cosignatures: int = 0,
) -> ProofVerdict:
    """Verify a checkpoint's note as the ledger serves it as text/plain: the log's signature
    with the pinned key (under ``key_name``, else the note's origin), and with ``witnesses``
    at least ``min_cosignatures`` valid cosignatures by them."""
    try:
        body, signatures = split_note(note)
        tree = parse_checkpoint_body(body)
    except ValueError as error:
        return ProofVerdict(ok=False, summary="not a checkpoint note", problems=[str(error)])
    problems = []
    if public_key is None:
        problems.append("no key to check the log's signature with: pin it (--public-key)")
    else:
        try:
            opened_note(note, key_name or tree.origin, public_key)
        except ValueError as error:
            problems.append(f"the log's signature: {error}")
    count, witnessed = witness_problems(note, signatures, witnesses, min_cosignatures)
    summary = (
        f"checkpoint {tree.tree_size} of {tree.origin} (root {tree.root_hash.hex()}), "
        f"cosigned by {count} of the witnesses given"
    )
    return ProofVerdict(ok=not problems + witnessed, summary=summary, problems=problems + witnessed)


def witness_problems(
    note: str | None,
    signatures: Sequence[NoteSignature],
    witnesses: Sequence[WitnessKey],
    required: int,
) -> tuple[int, list[str]]:
    """How many of the witnesses validly cosigned the note's body, and what is missing."""
    if note is None:
        return 0, ["a v1 checkpoint (no note) cannot be cosigned"] if required else []
    body, _ = split_note(note)
    count = len(cosigners(body, signatures, witnesses))
    if count >= required:
        return count, []
    return count, [
        f"the checkpoint carries {count} valid cosignature(s) by the witnesses given, of the "
        f"{required} required: it is not trusted"
    ]


def verify_proof(
    proof: InclusionProof | ConsistencyProof,
    public_key: bytes | None = None,
    *,
    allow_unsigned: bool = False,
    key_name: str | None = None,
) -> ProofVerdict:
    """Check the proof's hashes and its checkpoints' signatures: a v1 checkpoint's over its
    statement, a note's as c2sp.org/signed-note says, under ``key_name`` when pinned (a
    verifier key names it), else under the note's origin."""
    try:
        if isinstance(proof, InclusionProof):
            summary, problems = _inclusion(proof)
            checkpoints = [proof.checkpoint]
        else:
            summary, problems = _consistency(proof)
            checkpoints = [proof.first, proof.second]
        for checkpoint in checkpoints:
            problems += _signature_problems(checkpoint, public_key, allow_unsigned, key_name)
    except ValueError as error:
        return ProofVerdict(ok=False, summary="malformed proof", problems=[str(error)])
    signer = checkpoints[0].key_id or "nobody (unsigned)"
    pinned = "" if public_key is not None else ", key not pinned"
    return ProofVerdict(
        ok=not problems, summary=f"{summary}, signed by {signer}{pinned}", problems=problems
    )


def _inclusion(proof: InclusionProof) -> tuple[str, list[str]]:
    checkpoint, problems = proof.checkpoint, []
    leaf = leaf_hash(event_leaf_data(proof.position, _hash(proof.event_hash)))
    if leaf.hex() != proof.leaf_hash:
        problems.append("leaf_hash is not the hash of the position and event_hash")
    path = [_hash(node) for node in proof.audit_path]
    root = _hash(checkpoint.root_hash)
    if not verify_inclusion(leaf, proof.leaf_index, checkpoint.tree_size, path, root):
        problems.append(
            f"the audit path does not lead from leaf {proof.leaf_index} to the root of "
            f"checkpoint {checkpoint.tree_size}"
        )
    summary = (
        f"event {proof.event_hash} at position {proof.position} (leaf {proof.leaf_index}) "
        f"is in the tree of checkpoint {checkpoint.tree_size} (root {checkpoint.root_hash})"
    )
    return summary, problems


def _consistency(proof: ConsistencyProof) -> tuple[str, list[str]]:
    first, second = proof.first, proof.second
    nodes = [_hash(node) for node in proof.proof]
    old, new = _hash(first.root_hash), _hash(second.root_hash)
    problems = []
    if not verify_consistency(first.tree_size, second.tree_size, old, new, nodes):
        problems.append(
            f"the proof does not show that tree {first.tree_size} is a prefix of tree "
            f"{second.tree_size}"
        )
    summary = f"checkpoint {first.tree_size} is a prefix of checkpoint {second.tree_size}"
    return summary, problems


def _signature_problems(
    checkpoint: Checkpoint, public_key: bytes | None, allow_unsigned: bool, key_name: str | None
) -> list[str]:
    name = f"checkpoint {checkpoint.tree_size}"
    if checkpoint.signature is None:
        return [] if allow_unsigned else [f"{name} is not signed"]
    key = public_key
    if key is None and checkpoint.public_key is not None:
        key = bytes.fromhex(checkpoint.public_key)
    if key is None:
        return [f"{name}: no public key to check its signature with"]
    if checkpoint.key_id != key_id_of(key):
        return [f"{name} was signed by key {checkpoint.key_id}, not by key {key_id_of(key)}"]
    problem = signature_problem(checkpoint, key, key_name)
    return [] if problem is None else [f"{name}: {problem}"]


def _hash(text: str) -> bytes:
    """A 32-byte hash from hex; ValueError (a malformed proof) otherwise."""
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise ValueError(f"{text!r} is not a SHA-256 hash")
    return raw
