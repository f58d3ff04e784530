"""Witness cosignatures made and checked with Ed25519 (c2sp.org/tlog-cosignature): a
witness's key (``Cosigner``), the keys a log or an auditor trusts (``WitnessKey``), and the
check of a cosignature line against a checkpoint body. The formats are
``ledger.domain.cosignatures``."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from ledger.audit.signing import Signer, ed25519_is_valid
from ledger.domain.cosignatures import (
    Cosignature,
    cosignature_of,
    cosigned_message,
    cosigner_key_hash,
)
from ledger.domain.notes import (
    COSIGNATURE_V1,
    NoteSignature,
    name_problem,
    parse_verifier_key,
    verifier_key,
)


class Cosigner:
    """A witness's name and Ed25519 key: cosigns checkpoint bodies."""

    def __init__(self, name: str, signer: Signer) -> None:
        if (problem := name_problem(name)) is not None:
            raise ValueError(f"the witness name {name!r} is not valid: {problem}")
        self.name = name
        self._signer = signer
        self.key = WitnessKey(name, signer.public_key)

    def cosign(self, body: str, timestamp: int | None = None) -> Cosignature:
        """The cosignature of a checkpoint body, made now (or at ``timestamp``)."""
        at = int(time.time()) if timestamp is None else timestamp
        signature = self._signer.sign_bytes(cosigned_message(at, body))
        return Cosignature(self.name, self.key.key_hash, at, signature)


class WitnessKey(NamedTuple):
    """A witness's name and public key, as its verifier key names them."""

    name: str
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> WitnessKey:
        """The witness key of a verifier key ``name+hash+base64(0x04 || key)``."""
        name, public_key = parse_verifier_key(text, COSIGNATURE_V1)
        return cls(name, public_key)

    @property
    def key_hash(self) -> bytes:
        return cosigner_key_hash(self.name, self.public_key)

    @property
    def verifier_key(self) -> str:
        return verifier_key(self.name, self.public_key, COSIGNATURE_V1)

    def names(self, signature: NoteSignature) -> bool:
        """Whether a signature line claims to be by this key (its name and key hash)."""
        return (signature.name, signature.key_hash) == (self.name, self.key_hash)

    def verifies(self, cosignature: Cosignature, body: str) -> bool:
        """Whether the cosignature is this key's, over the checkpoint body."""
        if (cosignature.name, cosignature.key_hash) != (self.name, self.key_hash):
            return False
        message = cosigned_message(cosignature.timestamp, body)
        return ed25519_is_valid(self.public_key, message, cosignature.signature)


def cosigned_by(
    body: str, signatures: Iterable[NoteSignature], witness: WitnessKey
) -> Cosignature | None:
    """The witness's valid cosignature of the body among the signature lines, if any: lines
    by other keys are ignored, as c2sp.org/signed-note says."""
    for signature in signatures:
        if not witness.names(signature):
            continue
        try:
            cosignature = cosignature_of(signature)
        except ValueError:
            continue
        if witness.verifies(cosignature, body):
            return cosignature
    return None


def cosigners(
    body: str, signatures: Iterable[NoteSignature], witnesses: Iterable[WitnessKey]
) -> list[WitnessKey]:
    """The witnesses (of those given) with a valid cosignature of the body: each counts once."""
    lines = list(signatures)
    return [w for w in dict.fromkeys(witnesses) if cosigned_by(body, lines, w) is not None]
