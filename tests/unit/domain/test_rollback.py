"""A rollback to K appends a new release with exactly K's build, commit and config."""

from __future__ import annotations

import msgspec
import pytest

from ledger.domain import commands as c
from ledger.domain.decisions import rollback
from ledger.domain.events import ReleaseCreated


def test_the_new_release_pins_k_build_commit_and_config_version(given, when, then) -> None:
    given.config({"A": "1"}).releases("b1").config({"A": "2"}).releases("b2")
    when.rollback(to=2)
    restored, k = then.release(5), then.release(2)
    pinned = ("build_id", "commit", "artifact_digest", "config_version")
    assert [getattr(restored, f) for f in pinned] == [getattr(k, f) for f in pinned]
    assert (restored.rollback_of, restored.cause, restored.status) == (2, "rollback", "succeeded")
    assert then.current() == restored


def test_the_config_is_exactly_k_config(given, when, then) -> None:
    given.config({"KEEP": "1", "CHANGED": "old", "REMOVED_LATER": "x"}).releases("b1")
    given.config({"CHANGED": "new", "ADDED_LATER": "y"}, unset=["REMOVED_LATER"])
    when.rollback(to=2)
    assert then.environment().config == {"KEEP": "1", "CHANGED": "old", "REMOVED_LATER": "x"}
    assert then.environment().config_version == 1


def test_a_secret_added_after_k_leaves_but_its_declaration_stays(given, when, then) -> None:
    """Declarations are never taken back: set again later, the key is still secret."""
    given.config({"API_URL": "https://a"}).releases("b1")
    given.config({"LICENSE": "l-123"}, secret=["LICENSE"])
    when.rollback(to=2)
    assert then.environment().secret_keys == ["LICENSE"]
    assert "LICENSE" not in then.environment().config


def test_a_key_declared_secret_after_k_stays_secret(given, when, then) -> None:
    """Declared secret keys never appear in plaintext again, not even K's older value."""
    given.config({"LICENSE": "l-123"}).releases("b1")
    given.config({"LICENSE": "l-456"}, secret=["LICENSE"])
    when.rollback(to=2)
    assert then.environment().config["LICENSE"] == "l-123"
    assert then.environment().secret_keys == ["LICENSE"]


def test_a_config_change_after_a_rollback_gets_a_fresh_config_version(given, when, then) -> None:
    given.config({"A": "1"}).config({"A": "2"}).rollback(to=1)
    when.config({"A": "3"})
    assert [r.config_version for r in then.environment().releases] == [1, 2, 1, 3]


def test_the_rollback_records_who_and_why(given, when, then) -> None:
    given.releases("b1", "b2")
    event = when.rollback(reason="p99 latency doubled")
    assert isinstance(event, ReleaseCreated)
    assert (event.cause, event.reason, event.actor) == ("rollback", "p99 latency doubled", "alice")
    assert (event.forced, event.crossed_migrations) == (False, ())
    assert then.release(3).actor == "alice"


def test_nothing_is_deleted(given, when, then) -> None:
    given.releases("b1", "b2")
    count = then.event_count()
    when.rollback()
    assert then.event_count() == count + 1
    assert then.statuses() == {1: "superseded", 2: "superseded", 3: "succeeded"}


def test_the_decision_takes_the_environment_replayed_up_to_k(given, then) -> None:
    given.config({"A": "1"}).releases("b1").config({"A": "2"})
    environment, k = then.environment(), then.release(2)
    past = then.ledger.past("prod", k.event_version)
    cmd = c.Rollback(app="shop", env="prod", reason="bad config")
    event = rollback(environment, past, cmd, c.Context(actor="bob"), then.ledger.now)
    assert event.release.version == 4
    assert (event.release.rollback_of, event.restored_config) == (2, {"A": "1"})
    assert event.prev_hash == environment.last_hash


@pytest.mark.parametrize(
    "body",
    [
        b'{"app": "shop", "env": "prod"}',
        b'{"app": "shop", "env": "prod", "reason": ""}',
        b'{"app": "shop", "env": "prod", "reason": null}',
    ],
)
def test_a_reason_is_required(body: bytes) -> None:
    with pytest.raises(msgspec.ValidationError, match="reason"):
        msgspec.json.decode(body, type=c.Rollback)


def test_a_rollback_cannot_even_be_built_without_a_reason() -> None:
    with pytest.raises(TypeError, match="reason"):
        c.Rollback(app="shop", env="prod")
