"""Policies and change requests read from the event store, now or as they were at a time
(synchronous: the HTTP layer runs these in a thread)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ledger.domain.model import Build, Environment
from ledger.domain.names import build_id, environment_id, policy_id
from ledger.domain.policies import EVERY_APP
from ledger.domain.policy_levels import PolicyLevel
from ledger.domain.requests import ChangeRequest, request_stream
from ledger.eventstore.application import LedgerStore


def policy_levels(
    store: LedgerStore, app: str, env: str, at: datetime | None = None
) -> tuple[PolicyLevel | None, PolicyLevel | None]:
    """The levels of ``app``'s policy in ``env``: every app's (``*``) and its own (None for
    ``*`` itself), as they are now or were ``at`` a time."""
    star = _level(store, policy_id(EVERY_APP, env), at)
    own = None if app == EVERY_APP else _level(store, policy_id(app, env), at)
    return star, own


def _level(store: LedgerStore, stream: UUID, at: datetime | None) -> PolicyLevel | None:
    """A level as it is, or the last version of it changed at or before ``at`` (a policy
    stream is short: a version is read back one at a time)."""
    level = store.load(stream)
    while isinstance(level, PolicyLevel) and at is not None and level.changed_at > at:
        level = store.load(stream, level.version - 1) if level.version > 1 else None
    return level if isinstance(level, PolicyLevel) else None


def change_request(store: LedgerStore, request_id: str) -> ChangeRequest | None:
    state = store.load(request_stream(request_id))
    return state if isinstance(state, ChangeRequest) else None


def build_of(store: LedgerStore, app: str, build: str) -> Build | None:
    state = store.load(build_id(app, build))
    return state if isinstance(state, Build) else None


def secret_keys(store: LedgerStore, app: str, env: str) -> list[str]:
    """The config keys the environment declares secret."""
    state = store.load(environment_id(app, env))
    return list(state.secret_keys) if isinstance(state, Environment) else []
