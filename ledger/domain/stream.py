"""What every aggregate's state has: identity, version and the hash of its last event."""

from __future__ import annotations

from uuid import UUID

from msgspec import Struct


class Stream(Struct, kw_only=True, tag=True):
    """What every aggregate has: identity, version and the hash of its last event."""

    id: UUID
    version: int
    last_hash: str
    app: str
