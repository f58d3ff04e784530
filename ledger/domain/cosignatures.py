"""Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 "cosignature/v1"): the exact
formats, pure (no I/O, no cryptography).

A cosignature is a note signature line on a checkpoint::

    — <witness name> base64(key hash (4) || timestamp (8, big-endian) || Ed25519 signature (64))

The key hash is SHA-256(name || 0x0A || 0x04 || the 32-byte public key)[:4] (signature type
0x04, ``notes.COSIGNATURE_V1``), and the signature covers the **cosigned message**: two lines,
``cosignature/v1`` and ``time <timestamp in decimal>``, then the checkpoint body (its final
newline included, no signature line)::

    cosignature/v1
    time 1679315147
    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

It states that, as of that time, this is the largest tree consistent with everything the
witness saw of the log under that origin. A witness's verifier key is
``<name>+<key hash>+<base64(0x04 || public key)>``.
"""

from __future__ import annotations

from typing import NamedTuple

from ledger.domain.notes import COSIGNATURE_V1, NoteSignature, key_hash, signature_line

HEADER = "cosignature/v1"
TIMESTAMP_SIZE = 8
ED25519_SIGNATURE_SIZE = 64
MAX_TIMESTAMP = 2**63 - 1


class Cosignature(NamedTuple):
    """One witness's cosignature of a checkpoint body."""

    name: str
    key_hash: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        """The note signature line (ending in a newline)."""
        stamped = self.timestamp.to_bytes(TIMESTAMP_SIZE, "big") + self.signature
        return signature_line(NoteSignature(self.name, self.key_hash, stamped))


def cosigned_message(timestamp: int, body: str) -> bytes:
    """The bytes a cosignature of ``body`` made at ``timestamp`` signs."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"a cosignature's timestamp is 0..2^63-1, not {timestamp}")
    return f"{HEADER}\ntime {timestamp}\n{body}".encode()


def cosigner_key_hash(name: str, public_key: bytes) -> bytes:
    """The key hash of a witness's Ed25519 cosigning key (signature type 0x04)."""
    return key_hash(name, public_key, COSIGNATURE_V1)


def cosignature_of(signature: NoteSignature) -> Cosignature:
    """A note signature read as a cosignature; ValueError when it cannot be one (its bytes
    after the key hash are not a timestamp and an Ed25519 signature)."""
    raw = signature.signature
    if len(raw) != TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE:
        raise ValueError(
            f"the cosignature of {signature.name} has {len(raw)} bytes after its key hash, "
            f"not {TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE} (timestamp and Ed25519 signature)"
        )
    timestamp = int.from_bytes(raw[:TIMESTAMP_SIZE], "big")
    if timestamp > MAX_TIMESTAMP:
        raise ValueError(f"the cosignature of {signature.name} has a timestamp over 2^63-1")
    return Cosignature(signature.name, signature.key_hash, timestamp, raw[TIMESTAMP_SIZE:])
