"""One-line human summaries of events, for history, feeds and chatops."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from msgspec import Struct

from ledger.domain.events import (
    AppCreated,
    BuildRecorded,
    CommandDenied,
    ConfigChanged,
    DriftDetected,
    DriftFacts,
    DriftResolved,
    FlagChanged,
    LedgerEvent,
    MigrationApplied,
    ReleaseCreated,
    RolloutProgressed,
    RuntimeObserved,
)
from ledger.domain.model import Environment
from ledger.domain.secrets import Fingerprints, is_secret
from projections.gate_summaries import GATE_SUMMARIES, gate_notes

SHORT_COMMIT = 7
MAX_LISTED_KEYS = 10
MAX_DESCRIPTION = 72


class Context(Struct, frozen=True, kw_only=True):
    """What the projector knows beyond the environment the event changed."""

    fingerprints: Fingerprints
    """The ledger's: how the environment before shows its secret values."""
    unseen_in: str | None = None
    """A deploy's build did not succeed in this environment first (``projections.provenance``)."""


Before = Environment | None


def short(commit: str | None, description: str | None = None) -> str:
    """A commit as people read it: its first 7 characters and the description in quotes,
    in parentheses after a space; nothing when there is neither."""
    facts = [commit[:SHORT_COMMIT]] if commit else []
    if description:
        line = " ".join(description.split())
        if len(line) > MAX_DESCRIPTION:
            line = line[: MAX_DESCRIPTION - 1] + "…"
        facts.append(f'"{line}"')
    return f" ({' '.join(facts)})" if facts else ""


def after_rollback(before: Environment | None) -> str:
    """' (after rollback vN)' when what runs before this release is a rollback."""
    current = before.current() if before else None
    if current is None or current.cause != "rollback":
        return ""
    return f" (after rollback v{current.version})"


def summarize(event: LedgerEvent, context: Context, before: Before = None) -> str:
    """One line saying who did what where; ``before`` is the environment the event changed."""
    line = SUMMARIES.get(type(event))
    if line is None:  # bookkeeping, which history leaves out
        where = f"{event.app} {event.env}" if event.env else event.app
        return f"{event.actor} recorded {type(event).__name__} in {where}"
    return line(event, before, context)


def app_created(event: AppCreated, before: Before, context: Context) -> str:
    return f"{event.actor} created app {event.app}"


def build_recorded(event: BuildRecorded, before: Before, context: Context) -> str:
    facts = f"({event.commit[:SHORT_COMMIT]}, {event.status})"
    return f"{event.actor} recorded build {event.build_id} of {event.app} {facts}"


def release_created(event: ReleaseCreated, before: Before, context: Context) -> str:
    r = event.release
    if event.cause == "rollback":
        forced = ""
        if event.forced:
            forced = f", forced past irreversible {', '.join(event.crossed_migrations)}"
        reason = f": {event.reason}" if event.reason else ""
        reason += "".join(f" — {note}" for note in gate_notes(event.gates))
        return (
            f"{event.actor} rolled back {event.app} {event.env} to v{r.rollback_of} "
            f"(as v{r.version}{forced}){reason}"
        )
    release = f"{event.app} v{r.version}{short(r.commit, r.description)}"
    notes = [f"canary {r.rollout_percent}%"] if r.strategy == "canary" else []
    if context.unseen_in:
        notes.append(f"not seen in {context.unseen_in} first")
    notes += gate_notes(event.gates)
    tail = (f" — {', '.join(notes)}" if notes else "") + after_rollback(before)
    if event.cause == "promote":
        return f"{event.actor} promoted {release} from {r.promoted_from} to {event.env}{tail}"
    return f"{event.actor} deployed {release} to {event.env}{tail}"


def rollout_progressed(event: RolloutProgressed, before: Before, context: Context) -> str:
    release = f"{event.app} {event.env} v{event.version}"
    if event.status == "rolling_out":
        return f"{event.actor} moved {release} to {event.percent}%"
    if event.status == "succeeded":
        return f"{event.actor} completed the rollout of {release}"
    if event.status == "aborted":
        return f"{event.actor} aborted the rollout of {release}"
    return f"{event.actor} marked the rollout of {release} as {event.status}"


def flag_changed(event: FlagChanged, before: Before, context: Context) -> str:
    state = "on" if event.enabled else "off"
    if event.enabled and event.rollout_percent is not None:
        state = f"on for {event.rollout_percent}%"
    return f"{event.actor} turned flag {event.flag} {state} in {event.app} {event.env}"


def migration_applied(event: MigrationApplied, before: Before, context: Context) -> str:
    kind = "reversible" if event.reversible else "irreversible"
    return (
        f"{event.actor} applied migration {event.migration_id} to {event.app} {event.env} "
        f"(schema {event.schema_version}, {kind})"
    )


def command_denied(event: CommandDenied, before: Before, context: Context) -> str:
    what = re.sub(r"(?<!^)(?=[A-Z])", " ", event.command).lower()
    where = f"{event.app} {event.env}" if event.env else event.app
    return f"{event.actor} was denied {what} in {where}: {event.detail}"


def config_changed(event: ConfigChanged, before: Before, context: Context) -> str:
    changes = config_changes(event, before, context.fingerprints)
    count = f"{len(changes)} config key{'' if len(changes) == 1 else 's'}"
    listed = ", ".join(changes[:MAX_LISTED_KEYS])
    if len(changes) > MAX_LISTED_KEYS:
        listed += f", … ({len(changes) - MAX_LISTED_KEYS} more)"
    where = f"{event.app} {event.env} (v{event.release.version})"
    notes = "".join(f" — {note}" for note in gate_notes(event.gates))
    return f"{count} changed in {where}: {listed}{after_rollback(before)}{notes}"


def digest(value: str) -> str:
    """An artifact digest as people read it: its algorithm and first 12 hex digits, and …"""
    algorithm, _, hexes = value.partition(":")
    return f"{algorithm}:{hexes[:12]}…" if len(hexes) > 12 else value


def runtime_observed(event: RuntimeObserved, before: Before, context: Context) -> str:
    counts: dict[str, int] = {}
    for instance in event.instances:
        counts[instance.artifact_digest] = counts.get(instance.artifact_digest, 0) + 1
    where = f"{event.reporter} sees {event.app} in {event.env}"
    if not counts:
        return f"{where} running nothing"
    running = ", ".join(f"{digest(d)} ({n})" for d, n in sorted(counts.items()))
    total = sum(counts.values())
    return f"{where} running {running} — {total} instance{'' if total == 1 else 's'}"


def drift_detected(event: DriftDetected, before: Before, context: Context) -> str:
    return f"drift detected: {event.app} in {event.env} {drift_line(event.drift)}"


def drift_resolved(event: DriftResolved, before: Before, context: Context) -> str:
    return f"drift resolved: {event.app} in {event.env} runs {expected_line(event.drift)}"


def drift_line(facts: DriftFacts) -> str:
    """What differs, strongest signal first."""
    expected = f" (expected {expected_line(facts)})"
    if facts.status == "not_running":
        return f"is not running{expected}"
    found = [f"an unrecorded artifact {digest(d)}" for d in facts.unrecorded_artifacts]
    found += [f"old release v{r.version}" for r in facts.old_releases]
    found += [f"build {digest(d)}, never released there" for d in facts.other_artifacts]
    return f"runs {', '.join(found)}{expected}"


def expected_line(facts: DriftFacts) -> str:
    if facts.expected_version is None:
        return "no release"
    shown = ", ".join(digest(d) for d in facts.expected)
    return f"v{facts.expected_version}" + (f" ({shown})" if shown else "")


Summary = Callable[[Any, Before, Context], str]
SUMMARIES: dict[type[LedgerEvent], Summary] = {
    AppCreated: app_created,
    BuildRecorded: build_recorded,
    ConfigChanged: config_changed,
    ReleaseCreated: release_created,
    RolloutProgressed: rollout_progressed,
    FlagChanged: flag_changed,
    MigrationApplied: migration_applied,
    CommandDenied: command_denied,
    RuntimeObserved: runtime_observed,
    DriftDetected: drift_detected,
    DriftResolved: drift_resolved,
    **GATE_SUMMARIES,
}
"""The one line of each event type that history shows (its ``kind`` is not None)."""


def config_changes(
    event: ConfigChanged, before: Environment | None, fingerprints: Fingerprints
) -> list[str]:
    """Keys added (+), changed (~) and removed (-), by name only; values are never shown.

    ``before`` shows secret values as fingerprints; the event's values may be either.
    """
    old = before.config if before else {}
    newly_secret = newly_secret_keys(event, before)
    added = sorted(k for k in event.set if k not in old)
    shown = fingerprints.fingerprint
    changed = {k for k, v in event.set.items() if k in old and old[k] not in (v, shown(v))}
    changed |= newly_secret - set(added)
    marks = [f"+{k}" for k in added]
    marks += [f"~{k} (now secret)" if k in newly_secret else f"~{k}" for k in sorted(changed)]
    return marks + [f"-{k}" for k in sorted(event.unset)]


def newly_secret_keys(event: ConfigChanged, before: Environment | None) -> set[str]:
    """Keys the event declares secret that were not secret before (by declaration or name)."""
    declared = before.secret_keys if before else []
    return {k for k in event.secret_keys if not is_secret(k, declared)}
