"""What every decision starts from: the next event of a stream, and the record of a refusal."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from ledger.domain import commands as c
from ledger.domain.chain import GENESIS, HASH_SCHEME
from ledger.domain.errors import Refused
from ledger.domain.events import CommandDenied, LedgerEvent
from ledger.domain.model import Stream
from ledger.domain.names import denials_id

E = TypeVar("E", bound=LedgerEvent)


def new_event(
    cls: type[E],
    stream: Stream | None,
    stream_id: UUID,
    ctx: c.Context,
    now: datetime,
    *,
    app: str,
    env: str | None = None,
    reason: str | None = None,
    **fields: Any,
) -> E:
    """An event that extends the stream: next version, the chain link, who/how/when."""
    return cls(
        originator_id=stream_id,
        originator_version=(stream.version if stream else 0) + 1,
        timestamp=now,
        event_id=uuid4(),
        app=app,
        env=env,
        actor=ctx.actor,
        actor_kind=ctx.actor_kind,
        authenticated=ctx.authenticated,
        via=ctx.via,
        reason=reason,
        occurred_at=ctx.occurred_at or now,
        correlation_id=ctx.correlation_id,
        traceparent=ctx.traceparent,
        tracestate=ctx.tracestate,
        prev_hash=stream.last_hash if stream else GENESIS,
        hash_scheme=HASH_SCHEME,
        **fields,
    )


def deny(
    denials: Stream | None, cmd: c.Command, ctx: c.Context, now: datetime, refusal: Refused
) -> CommandDenied:
    """Record a refused command in the app/env's stream of denials: which gate of which
    policy refused it, and why."""
    env = getattr(cmd, "env", None)
    return new_event(
        CommandDenied,
        denials,
        denials_id(cmd.app, env),
        ctx,
        now,
        app=cmd.app,
        env=env,
        reason=getattr(cmd, "reason", None),
        command=type(cmd).__name__,
        detail=refusal.detail,
        gate=refusal.gate,
        policy=refusal.policy,
    )
