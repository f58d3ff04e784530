"""Checkpoint notes as a verifier of an export reads them: the log's signature, and witnesses'
cosignatures. The formats are ``ledger.domain.notes`` and ``ledger.domain.cosignatures``;
witness keys and the check of one cosignature, ``ledger.audit.cosigning``."""

from __future__ import annotations

from ledger.audit.cosigning import WitnessKey
from ledger.audit.signing import ed25519_is_valid
from ledger.domain.cosignatures import cosignature_of
from ledger.domain.notes import ED25519, NoteSignature, key_hash


def cosigners(
    body: str, signatures: list[NoteSignature], witnesses: list[WitnessKey]
) -> tuple[list[str], list[str]]:
    """The witnesses whose cosignature of the body verifies, and the problems: a line by a
    witness's name and key hash that does not verify (lines of unknown keys are ignored)."""
    verified: list[str] = []
    problems: list[str] = []
    for witness in witnesses:
        for line in (s for s in signatures if witness.names(s)):
            try:
                cosignature = cosignature_of(line)
            except ValueError as error:
                problems.append(str(error))
                continue
            if not witness.verifies(cosignature, body):
                problems.append(f"the cosignature of {witness.name} does not verify")
            elif witness.name not in verified:
                verified.append(witness.name)
    return verified, problems


def log_signature_problem(
    body: str, signatures: list[NoteSignature], name: str, public_key: bytes
) -> str | None:
    """Why the note holds no valid signature of the body by the log's key (None: it does)."""
    expected = key_hash(name, public_key)
    ours = [s for s in signatures if (s.name, s.key_hash) == (name, expected)]
    if not ours:
        kind = f"{ED25519:#04x}"
        return f"the note has no signature by the key {name} (type {kind} key ID {expected.hex()})"
    if not all(ed25519_is_valid(public_key, body.encode(), s.signature) for s in ours):
        return "the note's signature by the log's key does not verify"
    return None
