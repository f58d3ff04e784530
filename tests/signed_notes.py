"""A verifier of checkpoints as signed notes, written from the specifications alone
(c2sp.org/signed-note, c2sp.org/tlog-checkpoint), not from the ledger's code: what a third
party would write to check the ledger's checkpoints."""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def independent_verifier_key(name: str, public_key: bytes) -> str:
    """name+hash+base64(0x01 || key), the key hash SHA-256(name || \\n || 0x01 || key)[:4]."""
    typed = b"\x01" + public_key
    hashed = hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4]
    return f"{name}+{hashed.hex()}+{base64.b64encode(typed).decode()}"


def independently_opened(note: str, vkey: str) -> str | None:
    """The note's text when a signature by the verifier key verifies over it, else None."""
    name, hash_hex, encoded = vkey.split("+", 2)
    typed = base64.b64decode(encoded)
    assert typed[0] == 1 and len(typed) == 33
    assert hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4].hex() == hash_hex
    split = note.rindex("\n\n")
    text, signatures = note[: split + 1], note[split + 2 :]
    assert signatures.endswith("\n")
    for line in signatures[:-1].split("\n"):
        dash, signer, blob = line.split(" ")
        assert dash == "\u2014"
        raw = base64.b64decode(blob)
        if signer != name or raw[:4].hex() != hash_hex:
            continue  # another key's signature: ignored, as the specification says
        try:
            Ed25519PublicKey.from_public_bytes(typed[1:]).verify(raw[4:], text.encode())
        except InvalidSignature:
            return None
        return text
    return None


def checkpoint_lines(text: str) -> tuple[str, int, str]:
    """Origin, tree size and root (hex) of a checkpoint body, as c2sp.org/tlog-checkpoint."""
    origin, size, root, end = text.split("\n")
    assert end == "" and str(int(size)) == size
    return origin, int(size), base64.b64decode(root, validate=True).hex()


def independent_witness_key(name: str, public_key: bytes) -> str:
    """A witness's verifier key: name+hash+base64(0x04 || key) (c2sp.org/tlog-cosignature)."""
    typed = b"\x04" + public_key
    hashed = hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4]
    return f"{name}+{hashed.hex()}+{base64.b64encode(typed).decode()}"


def independently_cosigned(note: str, witness_vkey: str) -> int | None:
    """The time of the witness's valid cosignature of the note's text, else None: the key ID
    is SHA-256(name || \\n || 0x04 || key)[:4], the signature timestamp (8 bytes, big-endian)
    || Ed25519 over "cosignature/v1\\ntime <timestamp>\\n" || the note's text."""
    name, hash_hex, encoded = witness_vkey.split("+", 2)
    typed = base64.b64decode(encoded)
    assert typed[0] == 4 and len(typed) == 33
    split = note.rindex("\n\n")
    text, signatures = note[: split + 1], note[split + 2 :]
    for line in signatures[:-1].split("\n"):
        _, signer, blob = line.split(" ")
        raw = base64.b64decode(blob)
        if signer != name or raw[:4].hex() != hash_hex or len(raw) != 4 + 8 + 64:
            continue
        timestamp = int.from_bytes(raw[4:12], "big")
        message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
        try:
            Ed25519PublicKey.from_public_bytes(typed[1:]).verify(raw[12:], message)
        except InvalidSignature:
            return None
        return timestamp
    return None
