"""The hash chain: each event carries the hash of its stream's previous event."""

from __future__ import annotations

import hashlib
from functools import cache

import msgspec

from ledger.domain.events import LedgerEvent

GENESIS = "0" * 64


def event_hash(event: LedgerEvent) -> str:
    """SHA-256 over the event's type and canonical JSON (sorted keys)."""
    digest = hashlib.sha256(_type_line(type(event)))
    digest.update(msgspec.json.encode(event, order="sorted"))
    return digest.hexdigest()


@cache
def _type_line(cls: type) -> bytes:
    return cls.__name__.encode() + b"\n"
