"""What the receivers of flag services share: their signatures, their JSON bodies, and how a
flag's state in one of the tool's environments becomes the ledger's ``SetFlag``."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any, TypeVar

import msgspec
from msgspec import Struct

from ledger.connectors.models import Mapping
from ledger.connectors.translation import (
    BadSignature,
    Changes,
    Delivery,
    Malformed,
    Skipped,
    mapped,
)
from ledger.domain.commands import SetFlag
from ledger.domain.events import ActorKind
from ledger.domain.names import FLAG_PATTERN
from ledger.domain.text import UNSTORABLE

SCOPES = frozenset({"flag:write"})
"""A flag service's deliveries flip flags, nothing else."""
MAX_REASON = 4096
MAX_NAME = 256
_FLAG = re.compile(FLAG_PATTERN)
_UNSTORABLE = re.compile(f"[{UNSTORABLE}]")
Payload = TypeVar("Payload")


class FlagState(Struct, frozen=True, kw_only=True):
    """A flag's state in one of the tool's environments, in the tool's names."""

    project: str | None
    environment: str | None
    flag: str
    enabled: bool
    rollout_percent: int | None = None
    reason: str


def verify_hmac(secret: str, delivery: Delivery, header: str) -> None:
    """The header carries the hex HMAC-SHA256 of the body keyed with the secret."""
    sent = delivery.headers.get(header)
    if sent is None:
        raise BadSignature(f"no {header} header")
    expected = hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), sent.strip().lower().encode()):
        raise BadSignature(f"{header} does not match the body signed with the connector's secret")


def decoded(delivery: Delivery, shape: type[Payload], tool: str) -> Payload:
    """The body as the tool's payload, or Malformed naming what is wrong."""
    try:
        return msgspec.json.decode(delivery.body, type=shape)
    except msgspec.DecodeError as error:
        raise Malformed(f"not a {tool} webhook body: {error}") from None


def text(value: str, limit: int = MAX_REASON) -> str:
    """A tool's free text as the ledger can keep it: storable characters, at most ``limit``."""
    cleaned = _UNSTORABLE.sub("\ufffd", value)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def set_flag(state: FlagState, mapping: Mapping) -> SetFlag | str:
    """The ledger's command for a flag's state, or why its names do not map."""
    app = mapped(state.project, mapping.app, mapping.apps)
    if app is None:
        return f"project {state.project!r} maps to no app (set mapping.app or mapping.apps)"
    env = mapped(state.environment, mapping.env, mapping.envs)
    if env is None:
        return f"environment {state.environment!r} maps to no env (set mapping.env or mapping.envs)"
    if not _FLAG.fullmatch(state.flag):
        return f"flag {state.flag!r} does not match {FLAG_PATTERN}"
    return SetFlag(
        app=app, env=env, flag=state.flag, enabled=state.enabled,
        rollout_percent=state.rollout_percent, reason=text(state.reason),
    )  # fmt: skip


def flag_changes(
    event: str, states: list[FlagState], mapping: Mapping, actor: str, actor_kind: ActorKind
) -> Changes | Skipped:
    """The commands for the states whose names map (unmapped when none does)."""
    commands: list[SetFlag] = []
    unmapped: list[str] = []
    for state in states:
        command = set_flag(state, mapping)
        if isinstance(command, str):
            unmapped.append(command)
        else:
            commands.append(command)
    if not commands:
        first = states[0] if states else None
        return Skipped(
            event=text(event, MAX_NAME), outcome="unmapped",
            reason=text("; ".join(unmapped) or "no flag named"),
            app=_named(first.project if first else None),
            env=_named(first.environment if first else None),
        )  # fmt: skip
    return Changes(
        event=text(event, MAX_NAME), commands=list(commands),
        actor=text(actor or "unknown", MAX_NAME), actor_kind=actor_kind,
        app=commands[0].app, env=commands[0].env,
    )  # fmt: skip


def _named(name: str | None) -> str | None:
    return None if name is None else text(name, MAX_NAME)


def ignored(event: str, reason: str) -> Skipped:
    return Skipped(event=text(event, MAX_NAME), outcome="ignored", reason=text(reason))


def percent(value: Any) -> int | None:
    """A percentage as tools spell it (``"32"``, ``32``, ``32.5``), rounded; None if it is none."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = round(float(value))
    except (ValueError, OverflowError):  # not a number, NaN or infinite
        return None
    return number if 0 <= number <= 100 else None
