"""Carrying out a CDEvent's plan: the commands it needs, run one by one through the writer.

The steps before the last (creating the app, recording an unseen build) are facts that hold
whatever happens next, and each is idempotent; the last command carries the CloudEvent's
idempotency key, so a re-delivered event is answered with its first result and appends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar
from uuid import UUID

import msgspec

from ledger.domain import commands as c
from ledger.domain import policy
from ledger.domain.errors import Conflict, KeyReused
from ledger.domain.model import GOOD, App, Build, Environment, Idempotency, Stream
from ledger.domain.names import app_id, build_id, environment_id, idempotency_id
from ledger.eventstore.application import LedgerStore
from ledger.ingest.cdevents import (
    ConfigPlan,
    DeployPlan,
    NothingToRecord,
    Plan,
    RecordBuildPlan,
    RollbackPlan,
    idempotency_key,
    ingest_context,
    plan_of,
)
from ledger.ingest.schema import CDEvent
from ledger.service.idempotency import client_key
from ledger.service.writer import Writer
from ledger.wire.shapes import WriteResult

S = TypeVar("S", bound=Stream)


class IngestResult(WriteResult, kw_only=True, omit_defaults=True):
    """The write result of the event's last command, and what the event became."""

    command: str | None = None  # None: nothing to record (the event is acknowledged)
    app: str | None = None
    env: str | None = None
    note: str | None = None


class Ingestor:
    """Ingests CDEvents: maps each onto the ledger's commands and runs them through the writer."""

    def __init__(self, store: LedgerStore, writer: Writer) -> None:
        self.store = store
        self.writer = writer

    async def ingest(self, event: CDEvent, sender: c.Context) -> IngestResult:
        """Record what the event says; raises IngestError, or the refusal of a command."""
        plan = plan_of(event)
        if isinstance(plan, NothingToRecord):
            return IngestResult(position=0, note=plan.note)
        context = ingest_context(sender, event)
        keyed = msgspec.structs.replace(context, idempotency_key=idempotency_key(event))
        steps, note = await self._steps(plan, keyed)
        await self._check_scopes(steps, context)
        for step in steps[:-1]:
            await self._prepare(step, context)
        last = steps[-1]
        try:
            result = await self.writer.run(last, keyed)
        except KeyReused:
            raise Conflict(
                f"event {event.context.id!r} from {event.context.source!r} was received before "
                "with other content; a CloudEvent's source and id name one event",
                field="id",
            ) from None
        return IngestResult(
            **msgspec.structs.asdict(result),
            command=type(last).__name__,
            app=last.app,
            env=last.env if isinstance(last, c.EnvironmentCommand) else None,
            note=note,
        )

    async def _steps(self, plan: Plan, keyed: c.Context) -> tuple[list[c.AnyCommand], str | None]:
        """The commands the plan needs now, the last one being what the event asks (for a
        re-delivered rollback, the release its first delivery restored, whatever ran since)."""
        if isinstance(plan, RollbackPlan):
            first = await self._first_answer(keyed)
            restored = first.release.rollback_of if first and first.release else None
            env = await self._load(environment_id(plan.app, plan.env), Environment)
            to = restored or rollback_version(env, plan)
            rollback = c.Rollback(app=plan.app, env=plan.env, reason=plan.reason, to_version=to)
            return [rollback], None
        if isinstance(plan, ConfigPlan):
            return [*await self._app_steps(plan.change.app), plan.change], None
        assert isinstance(plan, RecordBuildPlan | DeployPlan)
        steps = await self._app_steps(plan.build.app)
        known = await self._load(build_id(plan.build.app, plan.build.build_id or ""), Build)
        if isinstance(plan, DeployPlan):
            return [*steps, *([] if known else [plan.build]), plan.deploy], None
        if known is None:
            return [*steps, plan.build], None
        recorded = as_recorded(known)  # the first facts stand; repeating them appends nothing
        other = recorded != plan.build
        note = f"build {recorded.build_id} was recorded before with other facts; they stand"
        return [*steps, recorded], note if other else None

    async def _first_answer(self, keyed: c.Context) -> WriteResult | None:
        """The answer the first delivery of the event got, if it came before."""
        key = client_key(keyed)
        record = await self._load(idempotency_id(key), Idempotency) if key else None
        return msgspec.json.decode(record.recorded.response, type=WriteResult) if record else None

    async def _app_steps(self, app: str) -> list[c.AnyCommand]:
        exists = await self._load(app_id(app), App)
        return [] if exists else [c.CreateApp(app=app, description="first seen in a CDEvent")]

    async def _check_scopes(self, steps: list[c.AnyCommand], context: c.Context) -> None:
        """Refuse before any step runs when the sender may not take them all."""
        for step in steps:
            if not policy.has_scope(context, policy.REQUIRED_SCOPE[type(step)]):
                await self.writer.run(step, context)  # refused there, and the refusal recorded

    async def _prepare(self, step: c.AnyCommand, context: c.Context) -> None:
        with contextlib.suppress(Conflict):  # created or recorded meanwhile by another event
            await self.writer.run(step, context)

    async def _load(self, stream_id: UUID, kind: type[S]) -> S | None:
        state = await asyncio.to_thread(self.store.load, stream_id)
        return state if isinstance(state, kind) else None


def as_recorded(build: Build) -> c.RecordBuild:
    """The command that records exactly the facts already recorded (a repeat appends nothing)."""
    r = build.recorded
    return c.RecordBuild(
        app=r.app,
        build_id=r.build_id,
        commit=r.commit,
        branch=r.branch,
        artifact=r.artifact,
        stack=r.stack,
        status=r.status,
        pipeline=r.pipeline,
        committed_at=r.committed_at,
        finished_at=r.finished_at,
    )


def rollback_version(env: Environment | None, plan: RollbackPlan) -> int:
    """The release to roll back to: the newest before the current one that ran the artifact
    and succeeded. A rollback release stands for the release it restored, so the answer stays
    the same when the event is delivered again after the rollback."""
    where = f"{plan.app}/{plan.env}"
    current = env.current() if env else None
    if env is None or current is None:
        raise Conflict(f"nothing runs in {where}; there is nothing to roll back")
    digest = plan.digest.lower()
    ran = [
        r
        for r in env.releases[: current.version - 1]
        if r.status in GOOD and (r.artifact_digest or "").lower() == digest
    ]
    if not ran:
        raise Conflict(
            f"no release of {where} before v{current.version} ran {plan.digest}; "
            "there is nothing to roll back to",
            field="subject.content.artifactId",
        )
    target = ran[-1]
    while target.cause == "rollback" and target.rollback_of is not None:
        target = env.releases[target.rollback_of - 1]
    return target.version
