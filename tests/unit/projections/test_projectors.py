"""Projectors turn events into view changes by the domain's own rules, with secrets redacted."""

from __future__ import annotations

import msgspec
import pytest

from ledger.domain.events import LedgerEvent
from ledger.domain.model import Environment, evolve
from ledger.domain.secrets import Fingerprints
from projections.projectors import ViewChanges, state_view

SECRETS = ("hunter2-secret", "l-1-licence")
FINGERPRINTS = Fingerprints(b"unit-test-key")
fingerprint, redact = FINGERPRINTS.fingerprint, FINGERPRINTS.redact


def _prod_story(events) -> list[LedgerEvent]:
    """A release line of prod with secrets, a canary, a migration and a forced rollback."""
    return [
        events.config(
            "prod",
            1,
            1,
            set={"A": "1", "DB_PASSWORD": "hunter2-secret", "LICENSE": "l-1-licence"},
            secret=("LICENSE",),
        ),
        events.release("prod", 2, steps=(1, 10, 50, 100)),
        events.rollout("prod", 2, 50, "rolling_out"),
        events.rollout("prod", 2, 100, "succeeded"),
        events.flag("prod", "new-checkout", True, 25),
        events.migration("prod", "m1", "2", reversible=False),
        events.config("prod", 3, 2, set={"A": "2"}, unset=("LICENSE",), build="b1"),
        events.config("prod", 4, 3, secret=("A",), build="b1"),
        events.release(
            "prod",
            5,
            cause="rollback",
            rollback_of=2,
            reason="errors",
            crossed=("m1",),
            restored_config={"A": "1", "DB_PASSWORD": "hunter2-secret", "LICENSE": "l-1-licence"},
            restored_secret_keys=("LICENSE",),
        ),
    ]


def _project(events_: list[LedgerEvent]) -> ViewChanges:
    changes = ViewChanges({}, FINGERPRINTS)
    for position, event in enumerate(events_, start=1):
        changes.apply(event, position)
    return changes


def test_the_projected_environment_is_the_domain_state_with_secret_values_fingerprinted(
    events,
) -> None:
    changes = ViewChanges({}, FINGERPRINTS)
    domain: Environment | None = None
    for position, event in enumerate(_prod_story(events), start=1):
        changes.apply(event, position)
        state = evolve(domain, event)
        assert isinstance(state, Environment)
        domain = state
        projected = changes.states[("shop", "prod")]
        assert projected.config == redact(domain.config, domain.secret_keys)
        for field in (
            "releases",
            "flags",
            "secret_keys",
            "config_version",
            "schema_version",
            "migrations",
            "version",
            "last_hash",
            "updated_at",
        ):
            assert getattr(projected, field) == getattr(domain, field), field


def test_declaring_a_kept_key_secret_hides_its_current_value(events) -> None:
    changes = _project(
        [
            events.config("prod", 1, 1, set={"LICENSE": "l-1-licence"}),
            events.config("prod", 2, 2, secret=("LICENSE",)),
        ]
    )
    assert changes.states[("shop", "prod")].config == {"LICENSE": fingerprint("l-1-licence")}


def test_no_change_carries_a_secret_value(events) -> None:
    changes = _project([events.app(), events.build(), *_prod_story(events)])
    shown = msgspec.json.encode(
        [changes.history, list(changes.states.values()), list(changes.releases.values())]
    ).decode()
    for secret in SECRETS:
        assert secret not in shown
    assert fingerprint("hunter2-secret") in shown


def test_a_completed_canary_supersedes_the_release_before_it(events) -> None:
    changes = _project(
        [
            events.release("prod", 1),
            events.release("prod", 2, steps=(1, 50, 100)),
            events.rollout("prod", 2, 50, "rolling_out"),
        ]
    )
    v1, v2 = changes.releases[("shop", "prod", 1)], changes.releases[("shop", "prod", 2)]
    assert (v1.status, v2.status, v2.rollout_percent) == ("succeeded", "rolling_out", 50)
    changes.apply(events.rollout("prod", 2, 100, "succeeded"), 4)
    v1, v2 = changes.releases[("shop", "prod", 1)], changes.releases[("shop", "prod", 2)]
    assert (v1.status, v2.status, v2.rollout_percent) == ("superseded", "succeeded", 100)


def test_the_current_state_shows_what_runs_and_the_last_position(events) -> None:
    changes = _project(_prod_story(events))
    state = state_view(changes.states[("shop", "prod")], changes.envs[("shop", "prod")])
    assert state.position == 9
    assert state.release is not None
    assert (state.release.version, state.release.rollback_of) == (5, 2)
    assert state.config == {
        "A": fingerprint("1"),  # declared secret later in the story: declarations stay
        "DB_PASSWORD": fingerprint("hunter2-secret"),
        "LICENSE": fingerprint("l-1-licence"),
    }
    assert state.flags["new-checkout"].rollout_percent == 25
    assert (state.schema_version, state.config_version) == ("2", 1)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda e: e.app(), "app"),
        (lambda e: e.build(), "build"),
        (lambda e: e.config("prod", 1, 1, set={"A": "1"}), "config"),
        (lambda e: e.flag("prod", "f", True), "flag"),
        (lambda e: e.release("prod", 1), "deploy"),
        (lambda e: e.release("prod", 1, cause="promote", promoted_from="staging"), "promote"),
        (lambda e: e.release("prod", 2, cause="rollback", rollback_of=1), "rollback"),
        (lambda e: e.rollout("prod", 1, 50, "rolling_out"), "rollout"),
        (lambda e: e.migration("prod", "m1", "1", True), "migration"),
        (lambda e: e.denied("prod", "Deploy", "no"), "denied"),
    ],
)
def test_each_event_has_its_history_kind(events, make, kind: str) -> None:
    assert make(events).history_kind() == kind


def test_idempotency_records_stay_out_of_every_view(events) -> None:
    app = events.app()
    changes = _project([app, events.idempotency(app)])
    assert [item.kind for item in changes.history] == ["app"]


def test_history_data_holds_the_fields_of_the_event_type_only(events) -> None:
    changes = _project([events.migration("prod", "m7", "42", reversible=False)])
    item = changes.history[0]
    assert item.data == {
        "migration_id": "m7",
        "schema_version": "42",
        "reversible": False,
        "description": None,
    }
    assert (item.position, item.kind, item.actor, item.actor_kind) == (
        1,
        "migration",
        "ci-bot",
        "ci",
    )
    assert item.correlation_id == "run-7"


def test_a_config_change_in_history_shows_fingerprints_for_secrets(events) -> None:
    changes = _project(
        [events.config("prod", 1, 1, set={"DB_PASSWORD": "hunter2-secret", "A": "1"})]
    )
    assert changes.history[0].data["set"] == {
        "A": "1",
        "DB_PASSWORD": fingerprint("hunter2-secret"),
    }


def test_an_app_is_listed_with_its_description(events) -> None:
    changes = _project([events.app(description="the web shop")])
    [(app, position)] = changes.apps
    assert (app.name, app.description, position) == ("shop", "the web shop", 1)


def test_a_denied_command_shows_in_history_and_changes_no_environment(events) -> None:
    changes = _project([events.denied("prod", "Deploy", "prod is protected")])
    assert [item.kind for item in changes.history] == ["denied"]
    assert changes.envs == {} and changes.states == {}


def test_a_rollback_hides_every_value_the_environment_holds_secret_after_it(events) -> None:
    changes = _project(
        [
            events.config("prod", 1, 1, set={"LICENSE": "l-1-licence"}),
            events.config("prod", 2, 2, set={"LICENSE": "l-2-licence"}, secret=("LICENSE",)),
            events.release(
                "prod",
                3,
                cause="rollback",
                rollback_of=1,
                config_version=1,
                restored_config={"LICENSE": "l-1-licence"},
                restored_secret_keys=("LICENSE",),
            ),
        ]
    )
    assert changes.states[("shop", "prod")].config == {"LICENSE": fingerprint("l-1-licence")}
    restored = changes.history[-1].data["restored_config"]
    assert restored == {"LICENSE": fingerprint("l-1-licence")}
