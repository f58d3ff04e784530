"""Projectors: pure functions from events to the changes they make in the views.

Environments are projected by the domain's own ``evolve``, so current release, statuses and
secret keys follow the domain rules exactly; each secret value an event brings is replaced by
its fingerprint right after, by the keys the domain holds secret then, so a secret's
plaintext never enters a view.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ledger.domain.events import (
    ENVIRONMENT_EVENTS,
    AppCreated,
    ConfigChanged,
    LedgerEvent,
    ReleaseCreated,
)
from ledger.domain.gate_events import REQUEST_EVENTS, ChangeRequested, RequestStep
from ledger.domain.model import Environment, Release, evolve
from ledger.domain.policy import Rules
from ledger.domain.secrets import Fingerprints, is_secret
from ledger.wire.shapes import AppView, HistoryItem, ReleaseView, release_view
from ledger.wire.shapes import state_view as state_view  # re-exported: rows and tests use it here
from projections.provenance import unseen_in
from projections.request_changes import ProjectedRequest, RequestChanges
from projections.summaries import Context, summarize

EnvKey = tuple[str, str]
ReleaseKey = tuple[str, str, int]

META_FIELDS = frozenset(LedgerEvent.__struct_fields__)


def config_brought_by(event: LedgerEvent) -> dict[str, str]:
    """The config values an event puts into its environment."""
    if isinstance(event, ConfigChanged):
        return event.set
    if isinstance(event, ReleaseCreated) and event.restored_config is not None:
        return event.restored_config
    return {}


def redact_state(
    state: Environment, event: LedgerEvent, secret_before: list[str], fingerprints: Fingerprints
) -> None:
    """Fingerprint the secret values the event brought in and those of keys it made secret.

    Every other value is already as shown: plaintext, or fingerprinted by an earlier event.
    """
    brought = config_brought_by(event)
    if not brought and state.secret_keys == secret_before:
        return
    for key, value in state.config.items():
        if is_secret(key, state.secret_keys) and (
            key in brought or not is_secret(key, secret_before)
        ):
            state.config[key] = fingerprints.fingerprint(value)


def evolve_environment(
    before: Environment | None, event: LedgerEvent
) -> tuple[Environment, list[Release]]:
    """The environment after an event, and the releases whose row the event changed."""
    # Only open releases change: no walk over all of them.
    opened = before.open_releases() if before else []
    live = {r.version: (r.status, r.rollout_percent) for r in opened}
    count = len(before.releases) if before else 0
    after = evolve(before, event)
    assert isinstance(after, Environment)
    changed = [
        r
        for r in map(after.release, live)
        if r is not None and live[r.version] != (r.status, r.rollout_percent)
    ]
    return after, changed + after.releases[count:]


def event_data(event: LedgerEvent) -> dict[str, Any]:
    """The fields that are specific to the event's type, as JSON-ready values."""
    fields = {f: getattr(event, f) for f in event.__struct_fields__ if f not in META_FIELDS}
    data: dict[str, Any] = msgspec.to_builtins(fields)
    return data


def history_item(event: LedgerEvent, position: int, kind: str, summary: str) -> HistoryItem:
    """One line of the change history."""
    return HistoryItem(
        position=position,
        event_id=event.event_id,
        app=event.app,
        env=event.env,
        kind=kind,
        actor=event.actor,
        actor_kind=event.actor_kind,
        via=event.via,
        summary=summary,
        reason=event.reason,
        recorded_at=event.timestamp,
        data=event_data(event),
        correlation_id=event.correlation_id,
    )


class ViewChanges:
    """What a batch of events changes in the views, worked out without I/O.

    ``states`` must hold the projected state of every environment the batch touches that
    already has one; it is updated in place. Secret values are shown as their
    ``fingerprints``. With ``rules``, deploys are summarised with where
    their build should have run first (``projections.provenance``), which needs the states
    ``provenance.states_needed`` names as well. ``requests`` must hold each change request
    the batch steps that was made before it, and ``states`` the environment of each config
    change it requests (``projections.request_changes``).
    """

    def __init__(
        self,
        states: dict[EnvKey, Environment],
        fingerprints: Fingerprints,
        rules: Rules | None = None,
        requests: dict[str, ProjectedRequest] | None = None,
    ) -> None:
        self.states = states
        self.fingerprints = fingerprints
        self.rules = rules
        self.apps: list[tuple[AppView, int]] = []
        self.envs: dict[EnvKey, int] = {}
        self.releases: dict[ReleaseKey, ReleaseView] = {}
        self.history: list[HistoryItem] = []
        self.requests = RequestChanges(requests)

    def apply(self, event: LedgerEvent, position: int) -> None:
        """Add the changes one event (at its global position) makes."""
        kind = event.history_kind()
        if kind is None:
            return
        if isinstance(event, ENVIRONMENT_EVENTS) and event.env is not None:
            self._apply_to_environment(event, (event.app, event.env), position, kind)
            return
        if isinstance(event, AppCreated):
            app = AppView(name=event.app, description=event.description, created_at=event.timestamp)
            self.apps.append((app, position))
        if isinstance(event, REQUEST_EVENTS):
            event = self._apply_to_request(event, position)
        summary = summarize(event, self._context(event))
        self.history.append(history_item(event, position, kind, summary))

    def _apply_to_environment(
        self, event: LedgerEvent, key: EnvKey, position: int, kind: str
    ) -> None:
        before = self.states.get(key)
        secret_before = list(before.secret_keys) if before else []
        # Before evolving: evolve changes the state in place.
        summary = summarize(event, self._context(event), before)
        # The domain's own rules, fed the event as stored; the plaintext values it brings are
        # replaced at once, by the secret keys the domain holds after it (nothing awaits here).
        after, releases = evolve_environment(before, event)
        redact_state(after, event, secret_before, self.fingerprints)
        self.states[key] = after
        self.envs[key] = position
        for release in releases:
            self.releases[(*key, release.version)] = release_view(release)
        shown = self.fingerprints.redact_event(event, after.secret_keys)
        self.history.append(history_item(shown, position, kind, summary))

    def _apply_to_request(self, event: ChangeRequested | RequestStep, position: int) -> LedgerEvent:
        """Apply a request's event; return it as shown (a requested config change's secret
        values as fingerprints)."""
        if isinstance(event, ChangeRequested):
            state = self.states.get((event.app, event.env or ""))
            event = self.fingerprints.redact_event(event, state.secret_keys if state else ())
        self.requests.apply(event, position)
        return event

    def _context(self, event: LedgerEvent) -> Context:
        if self.rules is None:
            return Context(fingerprints=self.fingerprints)
        seen = unseen_in(event, self.states, self.rules)
        return Context(fingerprints=self.fingerprints, unseen_in=seen)
