"""The audit's configuration, from LEDGER_* environment variables like every other setting."""

from __future__ import annotations

import os
from collections.abc import Mapping

from msgspec import Struct

DEFAULT_EVERY_EVENTS = 1000
DEFAULT_EVERY_SECONDS = 10.0


class AuditSettings(Struct, frozen=True, kw_only=True):
    """How checkpoints are signed and how often they are written."""

    signing_key: str | None = None
    """LEDGER_SIGNING_KEY: base64 of a 32-byte Ed25519 private key."""
    every_events: int = DEFAULT_EVERY_EVENTS
    """LEDGER_CHECKPOINT_EVENTS: a checkpoint after this many new events at the latest."""
    every_seconds: float = DEFAULT_EVERY_SECONDS
    """LEDGER_CHECKPOINT_SECONDS: a new event is checkpointed within about this long."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuditSettings:
        env = os.environ if environ is None else environ
        events = env.get("LEDGER_CHECKPOINT_EVENTS")
        seconds = env.get("LEDGER_CHECKPOINT_SECONDS")
        return cls(
            signing_key=env.get("LEDGER_SIGNING_KEY") or None,
            every_events=int(events) if events else DEFAULT_EVERY_EVENTS,
            every_seconds=float(seconds) if seconds else DEFAULT_EVERY_SECONDS,
        )
