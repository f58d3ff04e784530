"""From a batch of the log to the messages subscribers get: CloudEvents with secrets redacted."""

from __future__ import annotations

from uuid import UUID

import msgspec

from ledger.domain.events import ConfigChanged, LedgerEvent, ReleaseCreated
from ledger.domain.gate_events import ChangeRequested
from ledger.domain.model import Environment
from ledger.domain.names import environment_id
from ledger.domain.secrets import Fingerprints
from ledger.eventstore.application import LedgerStore
from ledger.wire.cloudevents import CloudEvent, to_cloudevent
from projections.follower import Batch

EVENTS_SUBJECT = "ledger.events"
FEED_SUBJECT = "ledger.feed"


class Message(msgspec.Struct, frozen=True):
    subject: str
    msg_id: str
    cloudevent: CloudEvent


def event_subject(event: LedgerEvent, kind: str) -> str:
    return f"{EVENTS_SUBJECT}.{_token(event.app)}.{event.env or '_'}.{kind}"


def feed_subject(app: str, env: str | None) -> str:
    return f"{FEED_SUBJECT}.{_token(app)}.{env or '_'}"


def _token(app: str) -> str:
    """An app as a subject token: ``*`` (the policy of every app) is NATS's wildcard, so ``_``."""
    return "_" if app == "*" else app


def messages_of(store: LedgerStore, batch: Batch, fingerprints: Fingerprints) -> list[Message]:
    """The CloudEvent of each ledger event of the batch (bookkeeping events are left out).

    Secret values are shown as their ``fingerprints``, redacted with the keys the environment
    declares secret now (a superset of those declared then, since declarations are never taken
    back)."""
    states: dict[UUID, Environment | None] = {}
    out = []
    for position, event in batch:
        kind = event.history_kind()
        if kind is None or event.cloudevent_type is None:
            continue
        first = False
        if isinstance(event, ConfigChanged | ReleaseCreated | ChangeRequested):
            state = _environment(store, event, states)
            event = fingerprints.redact_event(event, state.secret_keys if state else ())
            first = isinstance(event, ReleaseCreated) and _first_deploy(state, event)
        cloudevent = to_cloudevent(event, position, kind, first)
        out.append(Message(event_subject(event, kind), str(event.event_id), cloudevent))
    return out


def _environment(
    store: LedgerStore, event: LedgerEvent, cache: dict[UUID, Environment | None]
) -> Environment | None:
    stream = environment_id(event.app, event.env or "")
    if stream not in cache:
        state = store.load(stream)
        cache[stream] = state if isinstance(state, Environment) else None
    return cache[stream]


def _first_deploy(state: Environment | None, event: ReleaseCreated) -> bool:
    """No earlier release of the environment ran a build: the service is deployed, not upgraded."""
    earlier = state.releases[: event.release.version - 1] if state else []
    return not any(r.build_id for r in earlier)
