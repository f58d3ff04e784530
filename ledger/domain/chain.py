"""The hash chain: each event carries the hash of its stream's previous event.

An event's hash (lowercase hex of a SHA-256) is computed as its ``hash_scheme`` says:

1. ``LEGACY_SCHEME``, the events stored before the field existed: SHA-256 of the event's type
   name, a newline, and msgspec's JSON of the event with sorted keys.
2. ``JCS_SCHEME``: SHA-256 of the RFC 8785 canonical JSON of the event's form
   (``ledger.domain.canonical``), which another language can reproduce exactly.
3. ``COMMITTED_SCHEME``, every new event: as 2, over the event's hashed form
   (``ledger.domain.commitments``): its secret config values replaced by commitments, its
   salt left out, so that the form can be shown to anyone and still hash to the event's hash.

An event keeps its scheme forever, so a log mixes them and verifies as it is; the chain rule
(``prev_hash``) and the Merkle leaf (position and hash) are the same for both.
"""

from __future__ import annotations

import hashlib
from functools import cache

import msgspec

from ledger.domain.canonical import canonical_json
from ledger.domain.commitments import COMMITTED_SCHEME, hashed_form
from ledger.domain.events import LedgerEvent

GENESIS = "0" * 64
LEGACY_SCHEME = 1
JCS_SCHEME = 2
HASH_SCHEME = COMMITTED_SCHEME
"""The scheme of the events the ledger creates."""
_sorted = msgspec.json.Encoder(order="sorted")


def event_hash(event: LedgerEvent) -> str:
    """The event's hash by its own scheme; ValueError for a scheme this ledger does not know."""
    if event.hash_scheme == COMMITTED_SCHEME:
        return jcs_hash(hashed_form(event))
    if event.hash_scheme == JCS_SCHEME:
        return jcs_hash(event)
    if event.hash_scheme == LEGACY_SCHEME:
        return legacy_hash(event)
    raise ValueError(f"the event's hash scheme {event.hash_scheme} is unknown")


def jcs_hash(event: LedgerEvent) -> str:
    """Scheme 2 (and 3, of the hashed form): SHA-256 of the RFC 8785 canonical JSON of the
    event's form."""
    return hashlib.sha256(canonical_json(event)).hexdigest()


def legacy_hash(event: LedgerEvent) -> str:
    """Scheme 1: SHA-256 of the type name, a newline, and the JSON with sorted keys."""
    digest = hashlib.sha256(_type_line(type(event)))
    digest.update(_sorted.encode(event))
    return digest.hexdigest()


@cache
def _type_line(cls: type) -> bytes:
    return cls.__name__.encode() + b"\n"
