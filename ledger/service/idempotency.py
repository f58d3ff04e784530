"""Idempotency: a command repeated with the same key (a client's, or a CI run's) is answered
with its first result and appends nothing; the same key with another request is refused."""

from __future__ import annotations

import hashlib
from datetime import datetime

import msgspec

from ledger.domain import commands as c
from ledger.domain import decisions
from ledger.domain.errors import KeyReused
from ledger.domain.events import EventRef, IdempotencyRecorded
from ledger.domain.model import Idempotency
from ledger.domain.names import idempotency_id
from ledger.service.session import Decided
from ledger.wire.shapes import WriteResult


def replay(record: Idempotency, digest: str, ctx: c.Context) -> Decided:
    if record.recorded.request_digest != digest:
        key = ctx.idempotency_key  # as the sender sent it; a run's key holds the request itself
        raise KeyReused(f"idempotency key {key!r} was used before with a different request")
    result = msgspec.json.decode(record.recorded.response, type=WriteResult)
    result.replayed = True
    return Decided(events=[], result=result, replay_of=record.recorded.refs[-1])


def idempotency_event(
    key: str, digest: str, decided: Decided, cmd: c.AnyCommand, ctx: c.Context, now: datetime
) -> IdempotencyRecorded:
    refs = tuple(EventRef(e.originator_id, e.originator_version) for e in decided.events)
    return decisions.new_event(
        IdempotencyRecorded,
        None,
        idempotency_id(key),
        ctx,
        now,
        app=cmd.app,
        key=key,
        request_digest=digest,
        response=msgspec.json.encode(decided.result).decode(),
        refs=refs,
    )


def idempotency_key(cmd: c.AnyCommand, ctx: c.Context) -> str | None:
    """The client's key (per actor), else for CI the pipeline run id with the command itself:
    a retried step of a run is recorded once, its other steps each once."""
    if ctx.idempotency_key:
        return client_key(ctx)
    if ctx.actor_kind == "ci" and ctx.correlation_id and isinstance(cmd, c.EnvCommand):
        return f"run:{ctx.actor}:{ctx.correlation_id}:{digest(cmd)}"
    return None


def client_key(ctx: c.Context) -> str | None:
    """The stored form of the sender's idempotency key: a key is the sender's own (per actor)."""
    return f"key:{ctx.actor}:{ctx.idempotency_key}" if ctx.idempotency_key else None


ADDED_LATER: dict[type[c.AnyCommand], dict[str, object]] = {
    c.Deploy: {"force": False},
    c.Promote: {"force": False},
    c.ChangeConfig: {"force": False},
}
"""Fields commands gained after digests were stored, with the default they leave out."""


def digest(cmd: c.AnyCommand) -> str:
    """The request a command is, as stored with its idempotency key: its type and its fields
    (without the ``op`` tag, which the type already names)."""
    fields = msgspec.structs.asdict(cmd)
    for name, default in ADDED_LATER.get(type(cmd), {}).items():
        if fields.get(name, default) == default:
            fields.pop(name, None)  # so requests digested before it came stay the same
    body = type(cmd).__name__.encode() + msgspec.json.encode(fields, order="sorted")
    return hashlib.sha256(body).hexdigest()
