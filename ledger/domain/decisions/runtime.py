"""Decisions on a Runtime stream: a report that changes what runs, and the drift it makes or
resolves. A report that changes nothing the ledger shows (the same artifacts and instance
counts as that reporter's last report) decides no event."""

from __future__ import annotations

from datetime import datetime

import msgspec

from ledger.domain import commands as c
from ledger.domain.decisions.streams import new_event
from ledger.domain.drift import BAD, Expectation, assess
from ledger.domain.events import (
    CommandDenied,
    DriftDetected,
    DriftFacts,
    DriftResolved,
    LedgerEvent,
    ObservedInstance,
    RuntimeObserved,
)
from ledger.domain.model import Environment, apply, evolve
from ledger.domain.names import denials_id, runtime_id
from ledger.domain.runtime import Observation, Runtime
from ledger.domain.stream import Stream


def report_runtime(
    runtime: Runtime | None,
    expected: Expectation,
    cmd: c.ReportRuntime,
    unrecorded: frozenset[str],
    ctx: c.Context,
    now: datetime,
) -> list[LedgerEvent]:
    """The events a report appends: what it saw when that changed, then any drift transition
    (also of a report that changes nothing, when time alone changed the status).

    ``unrecorded``: the reported digests that no build of the app produced."""
    instances = tuple(
        ObservedInstance(id=i.id, artifact_digest=i.artifact_digest, started_at=i.started_at)
        for i in sorted(cmd.instances, key=lambda i: (i.artifact_digest, i.id))
    )
    seen = Observation(
        reporter=cmd.reporter,
        observed_at=cmd.observed_at or now,
        complete=cmd.complete,
        instances=list(instances),
    )
    before = runtime.observations.get(cmd.reporter) if runtime else None
    if not _changes(before, seen, expected):  # the same, but time passed: the grace may be over
        return reassess(runtime, expected, ctx, now)
    observed = new_event(
        RuntimeObserved,
        runtime,
        runtime_id(cmd.app, cmd.env),
        ctx,
        now,
        app=cmd.app,
        env=cmd.env,
        reason=cmd.reason,
        reporter=cmd.reporter,
        observed_at=seen.observed_at,
        complete=cmd.complete,
        instances=instances,
        unrecorded=tuple(sorted(d for d in unrecorded if d in seen.counts())),
    )
    after = evolve(_copy(runtime), observed)
    assert isinstance(after, Runtime)
    return [observed, *reassess(after, expected, ctx, now)]


def _changes(before: Observation | None, seen: Observation, expected: Expectation) -> bool:
    if before is None:  # a first report of nothing, of an app with no release: nothing to show
        return bool(seen.instances) or (seen.complete and expected.version is not None)
    return before.counts() != seen.counts() or before.complete != seen.complete


def _copy(runtime: Runtime | None) -> Runtime | None:
    """A copy to evolve: deciding never changes the state it was given."""
    if runtime is None:
        return None
    return msgspec.structs.replace(runtime, observations=dict(runtime.observations))


def reassess(
    runtime: Runtime | None, expected: Expectation, ctx: c.Context, now: datetime
) -> list[LedgerEvent]:
    """A drift transition, if the runtime's status against the release line changed: into or
    within drifted and not running (a new kind of drift, or a new unrecorded artifact), or out."""
    if runtime is None:
        return []
    facts = assess(expected, runtime, now)
    recorded = runtime.drift
    fields = {"app": runtime.app, "env": runtime.env}
    ctx = msgspec.structs.replace(ctx, actor="ledger", actor_kind="system")
    if facts.status in BAD and _news(recorded, facts):
        return [new_event(DriftDetected, runtime, runtime.id, ctx, now, **fields, drift=facts)]
    if facts.status not in BAD and recorded is not None:
        resolved = new_event(
            DriftResolved, runtime, runtime.id, ctx, now, **fields, drift=facts, was=recorded.status
        )
        return [resolved]
    return []


def _news(recorded: DriftFacts | None, facts: DriftFacts) -> bool:
    """Whether the drift is worth telling: new, of another status, or a new unrecorded artifact."""
    if recorded is None or recorded.status != facts.status:
        return True
    return not set(facts.unrecorded_artifacts) <= set(recorded.unrecorded_artifacts)


def line_after(env: Environment | None, event: LedgerEvent) -> Environment:
    """The release line after an event of it, leaving ``env`` as it was (to reassess drift
    before the event is recorded)."""
    copy = None
    if env is not None:
        copy = msgspec.structs.replace(
            env,
            releases=list(env.releases),
            config=dict(env.config),
            flags=dict(env.flags),
            migrations=list(env.migrations),
            secret_keys=list(env.secret_keys),
        )
    after = apply(copy, event)
    assert isinstance(after, Environment)
    return after


def deny_unrecorded(
    denials: Stream | None, detected: DriftDetected, ctx: c.Context, now: datetime
) -> CommandDenied | None:
    """In a protected environment that takes deploys only via CI, an unrecorded artifact found
    running is a change that was never allowed: recorded as denied, beside the drift."""
    found = detected.drift.unrecorded_artifacts
    if not found:
        return None
    env = detected.env or ""
    return new_event(
        CommandDenied,
        denials,
        denials_id(detected.app, env),
        msgspec.structs.replace(ctx, actor="unknown", actor_kind="system"),
        now,
        app=detected.app,
        env=env,
        command="Deploy",
        detail=f"{', '.join(found)} runs there with no recorded build; {env} takes deploys "
        "only via CI",
    )
