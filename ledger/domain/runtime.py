"""The runtime of one app in one environment: what each reporter saw last, and the drift the
ledger recorded. One stream per (app, env), beside the environment's release line."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from msgspec import Struct, field

from ledger.domain.chain import GENESIS
from ledger.domain.events import (
    DriftDetected,
    DriftFacts,
    DriftResolved,
    LedgerEvent,
    ObservedInstance,
    RuntimeObserved,
)
from ledger.domain.stream import Stream


class Observation(Struct, kw_only=True):
    """A reporter's latest report of the app in the environment."""

    reporter: str
    observed_at: datetime
    complete: bool
    instances: list[ObservedInstance] = []
    unrecorded: list[str] = []

    def counts(self) -> dict[str, int]:
        """Instances per artifact digest: what a report changes (instance names do not)."""
        return dict(Counter(i.artifact_digest for i in self.instances))


class Runtime(Stream, kw_only=True):
    env: str
    observations: dict[str, Observation] = field(default_factory=dict)
    drift: DriftFacts | None = None  # the drift recorded last; None: none recorded, or resolved
    drift_since: datetime | None = None

    def instances(self) -> list[tuple[str, ObservedInstance]]:
        """Every instance every reporter sees (the union of their latest reports), by reporter."""
        return [(o.reporter, i) for o in self.observations.values() for i in o.instances]

    def unrecorded(self) -> set[str]:
        return {d for o in self.observations.values() for d in o.unrecorded}


def observe(state: Stream | None, event: LedgerEvent) -> Runtime:
    """Apply one runtime event to the runtime's state."""
    runtime = state if isinstance(state, Runtime) else _new(event)
    if isinstance(event, RuntimeObserved):
        runtime.observations[event.reporter] = Observation(
            reporter=event.reporter,
            observed_at=event.observed_at,
            complete=event.complete,
            instances=list(event.instances),
            unrecorded=list(event.unrecorded),
        )
    elif isinstance(event, DriftDetected):
        if runtime.drift is None:
            runtime.drift_since = event.timestamp
        runtime.drift = event.drift
    elif isinstance(event, DriftResolved):
        runtime.drift = runtime.drift_since = None
    return runtime


def _new(event: LedgerEvent) -> Runtime:
    return Runtime(
        id=event.originator_id, version=0, last_hash=GENESIS, app=event.app, env=event.env or ""
    )
