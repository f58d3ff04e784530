"""Checkpoint notes as a verifier of an export reads them: the log's signature, and witnesses'
cosignatures (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``, signature type 0x04).

A cosignature line is ``— <witness name> base64(key ID (4) || timestamp (8, big-endian) ||
Ed25519 signature (64))``, the key ID SHA-256(name || 0x0A || 0x04 || public key)[:4], and the
signature is over ``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint body.
A witness is named by its verifier key ``name+<key ID hex>+base64(0x04 || public key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import NamedTuple

from ledger.audit.signing import ed25519_is_valid
from ledger.domain.notes import ED25519, NoteSignature, key_hash, name_problem

COSIGNATURE_V1 = 0x04
"""The signed-note signature type of timestamped Ed25519 cosignatures."""
COSIGNATURE_SIZE = 8 + 64


class WitnessKey(NamedTuple):
    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return typed_key_id(self.name, COSIGNATURE_V1, self.public_key)


def typed_key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def parse_witness_key(text: str) -> WitnessKey:
    """A witness's verifier key: ``name+hash+base64(0x04 || key)``; ValueError otherwise."""
    name, _, rest = text.strip().partition("+")
    hashed, _, encoded = rest.partition("+")
    if (problem := name_problem(name)) is not None:
        raise ValueError(f"the witness key's name is not valid: {problem}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("the witness key is not name+hash+base64") from None
    if len(raw) != 33 or raw[0] != COSIGNATURE_V1:
        raise ValueError("the witness key is not a cosignature/v1 Ed25519 key (type 0x04)")
    key = WitnessKey(name, raw[1:])
    if hashed.lower() != key.key_id.hex():
        raise ValueError("the witness key's hash is not the hash of its name and key")
    return key


def cosignature_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: a header line, the time line, then the note's body."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


def cosigners(
    body: str, signatures: list[NoteSignature], witnesses: list[WitnessKey]
) -> tuple[list[str], list[str]]:
    """The witnesses whose cosignature of the body verifies, and the problems: a line by a
    witness's name and key ID that does not verify (lines of unknown keys are ignored)."""
    verified, problems = [], []
    for witness in witnesses:
        lines = [s for s in signatures if (s.name, s.key_hash) == (witness.name, witness.key_id)]
        for line in lines:
            if len(line.signature) != COSIGNATURE_SIZE:
                problems.append(f"the cosignature of {witness.name} is not 8 + 64 bytes")
                continue
            timestamp = int.from_bytes(line.signature[:8], "big")
            message = cosignature_message(body, timestamp)
            if not ed25519_is_valid(witness.public_key, message, line.signature[8:]):
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
