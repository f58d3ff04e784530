"""LaunchDarkly's webhooks: each sends an audit log entry, signed with ``X-LD-Signature``, the
hex HMAC-SHA256 of the body keyed with the webhook's secret.

A flag entry whose accesses turn the flag on or off (``updateOn``) or change its default rule
(``updateFallthrough``) in an environment (resource ``proj/<p>:env/<e>:flag/<f>``) flips the
ledger's flag there: on or off as the entry's current version of the flag says (else as its
title verb says), with the percentage a boolean flag's default rule rolls out to its ``true``
variation (weights are thousandths of a percent). Every other entry is ignored. The delivery
id is the entry's ``_id``."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from msgspec import Struct, field

from ledger.connectors import flags
from ledger.connectors.flags import FlagState
from ledger.connectors.models import Mapping
from ledger.connectors.translation import Changes, Delivery, Lookup, Skipped
from ledger.domain.events import ActorKind, Via

SIGNATURE = "x-ld-signature"
SITE = "https://app.launchdarkly.com"
STATE_ACTIONS = frozenset({"updateOn", "updateFallthrough"})
WEIGHT_PER_PERCENT = 1000
_RESOURCE = re.compile(r"^proj/([^:;]+)(?:;[^:]*)?:env/([^:;]+)(?:;[^:]*)?:flag/([^:;]+)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


class Link(Struct, frozen=True):
    href: str = ""


class Principal(Struct, frozen=True):
    """Who acted: a member (``email``), an API token or an authorized app (``name``)."""

    email: str = ""
    name: str = ""


class Access(Struct, frozen=True):
    action: str = ""
    resource: str = ""


class Target(Struct, frozen=True):
    links: dict[str, Link] = field(name="_links", default_factory=dict)


class Weighted(Struct, frozen=True):
    variation: int
    weight: int


class Rollout(Struct, frozen=True):
    variations: list[Weighted] = []


class Fallthrough(Struct, frozen=True):
    variation: int | None = None
    rollout: Rollout | None = None


class FlagEnvironment(Struct, frozen=True):
    on: bool | None = None
    fallthrough: Fallthrough | None = None
    site: Link | None = field(name="_site", default=None)


class Variation(Struct, frozen=True):
    value: Any = None


class Flag(Struct, frozen=True):
    """The flag as the entry's ``currentVersion`` shows it."""

    kind: str = ""
    variations: list[Variation] = []
    environments: dict[str, FlagEnvironment] = {}


class Entry(Struct, frozen=True):
    """An audit log entry, as LaunchDarkly's webhooks send it."""

    id: str = field(name="_id")
    kind: str = ""
    name: str = ""
    title: str = ""
    title_verb: str = field(name="titleVerb", default="")
    comment: str = ""
    member: Principal | None = None
    token: Principal | None = None
    app: Principal | None = None
    accesses: list[Access] = []
    target: Target | None = None
    links: dict[str, Link] = field(name="_links", default_factory=dict)
    current: Any = field(name="currentVersion", default=None)


class LaunchDarklyReceiver:
    kind: Via = "launchdarkly"
    scopes = flags.SCOPES

    def verify(self, secret: str, delivery: Delivery) -> None:
        flags.verify_hmac(secret, delivery, SIGNATURE)

    def delivery_id(self, delivery: Delivery) -> str:
        return flags.text(flags.decoded(delivery, Entry, "LaunchDarkly").id, flags.MAX_NAME)

    async def translate(
        self, delivery: Delivery, mapping: Mapping, lookup: Lookup
    ) -> Changes | Skipped:
        entry = flags.decoded(delivery, Entry, "LaunchDarkly")
        event = f"{entry.kind}: {entry.title_verb}" if entry.title_verb else entry.kind
        if entry.kind != "flag":
            return flags.ignored(event, f"a {entry.kind or 'nameless'} entry flips no flag")
        states = flag_states(entry)
        if isinstance(states, str):
            return flags.ignored(event, states)
        actor, kind = actor_of(entry)
        return flags.flag_changes(event, states, mapping, actor, kind)


def flag_states(entry: Entry) -> list[FlagState] | str:
    """The flag's state in each environment whose on/off or default rule the entry changed."""
    current = _flag(entry.current)
    touched = dict.fromkeys(
        found.group(1, 2, 3)
        for access in entry.accesses
        if access.action in STATE_ACTIONS and (found := _RESOURCE.match(access.resource))
    )
    if not touched:
        actions = sorted({a.action for a in entry.accesses}) or ["none"]
        return f"the entry's actions ({', '.join(actions)}) turn no flag on or off"
    states: list[FlagState] = []
    for project, env, flag in touched:
        config = current.environments.get(env)
        enabled = config.on if config and config.on is not None else _said_on(entry)
        if enabled is None:
            return f"the entry does not say whether {flag} is on in {env}"
        states.append(FlagState(
            project=project, environment=env, flag=flag, enabled=enabled,
            rollout_percent=rollout_percent(current, config), reason=reason(entry, config),
        ))  # fmt: skip
    return states


def _flag(current: Any) -> Flag:
    try:
        return msgspec.convert(current, Flag) if isinstance(current, dict) else Flag()
    except msgspec.ValidationError:
        return Flag()


def _said_on(entry: Entry) -> bool | None:
    if entry.title_verb.startswith("turned on"):
        return True
    if entry.title_verb.startswith("turned off"):
        return False
    return None


def rollout_percent(flag: Flag, config: FlagEnvironment | None) -> int | None:
    """The share of a boolean flag's default rule that serves ``true``, when it rolls out."""
    rollout = config.fallthrough.rollout if config and config.fallthrough else None
    if rollout is None or flag.kind != "boolean":
        return None
    serving_true = {i for i, variation in enumerate(flag.variations) if variation.value is True}
    weight = sum(w.weight for w in rollout.variations if w.variation in serving_true)
    return flags.percent(weight / WEIGHT_PER_PERCENT)


def reason(entry: Entry, config: FlagEnvironment | None) -> str:
    """``LaunchDarkly: <title> — <url>``, with the entry's comment."""
    title = _LINK.sub(r"\1", entry.title).replace("`", "") or f"{entry.title_verb} {entry.name}"
    said = f"LaunchDarkly: {title.strip()}"
    if entry.comment:
        said += f" ({entry.comment})"
    url = site_url(entry, config)
    return f"{said} — {url}" if url else said


def site_url(entry: Entry, config: FlagEnvironment | None) -> str | None:
    """The flag's page in the environment (or the entry's), absolute."""
    candidates = [
        config.site if config else None,
        entry.target.links.get("site") if entry.target else None,
        entry.links.get("site"),
    ]
    href = next((link.href for link in candidates if link and link.href), None)
    if href is None:
        return None
    return href if href.startswith(("https://", "http://")) else SITE + href


def actor_of(entry: Entry) -> tuple[str, ActorKind]:
    """A member is a person; an API token is automation; an app is an integration."""
    member = entry.member.email if entry.member else ""
    if entry.token is not None:
        return member or entry.token.name or "launchdarkly-token", "ci"
    if member:
        return member, "human"
    return (entry.app.name if entry.app else "") or "launchdarkly", "system"


RECEIVER = LaunchDarklyReceiver()
