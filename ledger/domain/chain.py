"""The hash chain: each event carries the hash of its stream's previous event."""

from __future__ import annotations

import hashlib

import msgspec

from ledger.domain.events import LedgerEvent

GENESIS = "0" * 64


def event_hash(event: LedgerEvent) -> str:
    """SHA-256 over the event's type and canonical JSON (sorted keys)."""
    body = msgspec.json.encode(event, order="sorted")
    return hashlib.sha256(type(event).__name__.encode() + b"\n" + body).hexdigest()
