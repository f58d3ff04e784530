"""What actually runs: reports decided against the release line, and the drift a change of
the release line makes or resolves."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.domain import commands as c
from ledger.domain import decisions
from ledger.domain.drift import Expectation, expectation
from ledger.domain.events import (
    ConfigChanged,
    DriftDetected,
    LedgerEvent,
    ReleaseCreated,
    RolloutProgressed,
)
from ledger.domain.model import Environment
from ledger.domain.names import denials_id
from ledger.service.session import Decided, Session
from ledger.service.streams import (
    artifact_named,
    build_named,
    environment_named,
    require_app,
    runtime_named,
)
from ledger.wire.shapes import WriteResult


def drift_after(
    session: Session, env: Environment | None, event: LedgerEvent, ctx: c.Context, now: datetime
) -> list[LedgerEvent]:
    """A change of what should run (a release, a rollout step) may make or resolve drift."""
    if not isinstance(event, ConfigChanged | ReleaseCreated | RolloutProgressed):
        return []
    assert event.env is not None
    runtime = runtime_named(session, event.app, event.env)
    if runtime is None:
        return []
    after = decisions.line_after(env, event)
    return decisions.reassess(runtime, _expected(session, after), ctx, now)


def _expected(session: Session, env: Environment | None) -> Expectation:
    return expectation(env, timedelta(seconds=session.rules.drift_grace_seconds))


def report_runtime(
    session: Session, cmd: c.ReportRuntime, ctx: c.Context, now: datetime
) -> Decided:
    require_app(session, cmd.app)
    env = environment_named(session, cmd.app, cmd.env)
    digests = {i.artifact_digest for i in cmd.instances}
    unrecorded = frozenset(d for d in digests if not _recorded(session, cmd.app, env, d))
    runtime = runtime_named(session, cmd.app, cmd.env)
    expected = _expected(session, env)
    events = decisions.report_runtime(runtime, expected, cmd, unrecorded, ctx, now)
    events += _denied_unrecorded(session, events, cmd, ctx, now)
    result = WriteResult(position=0, event_id=events[-1].event_id if events else None)
    return Decided(events=events, result=result)


def _denied_unrecorded(
    session: Session, events: list[LedgerEvent], cmd: c.ReportRuntime, ctx: c.Context, now: datetime
) -> list[LedgerEvent]:
    """Where the policy says so, an unrecorded artifact is a denied change."""
    detected = events[-1] if events else None
    if ctx.scopes is None or not isinstance(detected, DriftDetected):
        return []
    if session.policy(cmd.app, cmd.env).unrecorded != "deny":
        return []
    denials = session.get(denials_id(detected.app, cmd.env))
    denied = decisions.deny_unrecorded(denials, detected, ctx, now)
    return [denied] if denied else []


def _recorded(session: Session, app: str, env: Environment | None, digest: str) -> bool:
    """Whether a build of the app produced the digest: one released in this environment, one
    recorded under an id of its own (the index of artifacts), or the build recorded under the id
    the digest gives (a build recorded without an id)."""
    if env is not None and any(r.artifact_digest == digest for r in env.releases):
        return True
    if artifact_named(session, app, digest) is not None:
        return True
    build = build_named(session, app, decisions.default_build_id(digest))
    return build is not None and build.recorded.artifact.digest == digest
