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

import msgspec

from ledger.audit.messages import Checkpoint, ConsistencyProof, InclusionProof, ProofVerdict
from ledger.audit.notes import signature_problem
from ledger.audit.signing import key_id_of
from ledger.domain.merkle import event_leaf_data, leaf_hash, verify_consistency, verify_inclusion

_decoder = msgspec.json.Decoder(InclusionProof | ConsistencyProof)


def verify_proof_json(
    document: bytes | str,
    public_key: bytes | None = None,
    *,
    allow_unsigned: bool = False,
    key_name: str | None = None,
) -> ProofVerdict:
    """Verify a proof document (JSON) as the ledger serves it: an inclusion proof (from
    GET /v1/events/{id}/proof) or a consistency proof (GET /v1/checkpoints/{a}/consistency/{b})."""
    try:
        proof = _decoder.decode(document)
    except msgspec.DecodeError as error:
        return ProofVerdict(ok=False, summary="not a proof document", problems=[str(error)])
    return verify_proof(proof, public_key, allow_unsigned=allow_unsigned, key_name=key_name)


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
