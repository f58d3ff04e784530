"""An environment's runtime and release line read from the event store: now, or as they were
when the log ended at a position (synchronous: the HTTP layer runs these in a thread)."""

from __future__ import annotations

from ledger.domain.model import Environment
from ledger.domain.names import environment_id, runtime_id
from ledger.domain.runtime import Runtime
from ledger.eventstore.application import LedgerStore


def runtime_now(
    store: LedgerStore, app: str, env: str
) -> tuple[Runtime | None, Environment | None]:
    """The runtime of ``app`` in ``env`` and its release line, as they are now."""
    runtime = store.load(runtime_id(app, env))
    line = store.load(environment_id(app, env))
    return (
        runtime if isinstance(runtime, Runtime) else None,
        line if isinstance(line, Environment) else None,
    )


def runtime_at(
    store: LedgerStore, app: str, env: str, position: int
) -> tuple[Runtime | None, Environment | None]:
    """The runtime and release line as they were when the log ended at ``position``."""
    streams = (runtime_id(app, env), environment_id(app, env))
    with store.reading() as read:
        lasts = [read.last_at(stream, position) for stream in streams]
    runtime, line = (
        store.load(stream, last[0]) if last else None
        for stream, last in zip(streams, lasts, strict=True)
    )
    return (
        runtime if isinstance(runtime, Runtime) else None,
        line if isinstance(line, Environment) else None,
    )
