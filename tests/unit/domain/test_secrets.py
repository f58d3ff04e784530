"""Secret config values never show in plaintext: a fingerprint stands in for them."""

from __future__ import annotations

import pytest

from ledger.domain.secrets import Fingerprints, is_secret

FINGERPRINTS = Fingerprints(b"unit-test-key")
fingerprint, redact = FINGERPRINTS.fingerprint, FINGERPRINTS.redact


@pytest.mark.parametrize(
    "key",
    [
        "STRIPE_SECRET",
        "GITHUB_TOKEN",
        "DB_PASSWORD",
        "API_KEY",
        "DATABASE_URL",
        "api_key",
        "database_url",
        "Smtp_Password",
    ],
)
def test_keys_matching_a_secret_pattern_are_secret(key: str) -> None:
    assert is_secret(key)


@pytest.mark.parametrize(
    "key",
    [
        "API_URL",
        "MONKEY",
        "KEYBOARD",
        "TOKEN_TTL",
        "SECRETARY",
        "PASSWORD_MIN_LENGTH",
        "REPLICA_DATABASE_URL_COUNT",
        "LOG_LEVEL",
    ],
)
def test_other_keys_are_not(key: str) -> None:
    assert not is_secret(key)


def test_a_declared_key_is_secret_whatever_its_name() -> None:
    assert is_secret("LICENSE", declared=["LICENSE"])
    assert not is_secret("LICENSE", declared=["OTHER"])


def test_redact_replaces_secret_values_by_their_fingerprint() -> None:
    config = {"API_URL": "https://api", "DB_PASSWORD": "hunter2", "LICENSE": "l-123"}
    assert redact(config, declared=["LICENSE"]) == {
        "API_URL": "https://api",
        "DB_PASSWORD": fingerprint("hunter2"),
        "LICENSE": fingerprint("l-123"),
    }


def test_redact_leaves_the_config_it_is_given_alone() -> None:
    config = {"DB_PASSWORD": "hunter2"}
    redact(config, declared=[])
    assert config == {"DB_PASSWORD": "hunter2"}


def test_a_fingerprint_is_stable_and_shows_a_change() -> None:
    assert fingerprint("hunter2") == fingerprint("hunter2")
    assert fingerprint("hunter2") != fingerprint("hunter3")


def test_a_fingerprint_is_made_with_its_ledgers_key() -> None:
    other = Fingerprints(b"another-ledger")
    assert other.fingerprint("hunter2") != fingerprint("hunter2")
    assert other.fingerprint("hunter2") == Fingerprints(b"another-ledger").fingerprint("hunter2")


@pytest.mark.parametrize("value", ["hunter2", "postgres://app:pw@db/shop", "x" * 5000, "<secret:"])
def test_a_fingerprint_does_not_contain_the_value(value: str) -> None:
    shown = fingerprint(value)
    assert value not in shown.removeprefix("<secret:")
    assert len(shown) == len(fingerprint("")) and shown.startswith("<secret:")


def test_declared_secrets_are_kept_by_the_environment(given, when, then) -> None:
    given.config({"LICENSE": "l-123", "API_URL": "https://a"}, secret=["LICENSE"])
    when.config({"LICENSE_EXTRA": "x"}, secret=["API_URL", "LICENSE_EXTRA"])
    assert then.environment().secret_keys == ["API_URL", "LICENSE", "LICENSE_EXTRA"]


def test_declaring_a_set_key_secret_is_a_new_release(given, when, then) -> None:
    given.config({"LICENSE": "l-123"})
    when.config({"LICENSE": "l-123"}, secret=["LICENSE"])
    assert (then.environment().secret_keys, len(then.environment().releases)) == (["LICENSE"], 2)


def test_unsetting_a_secret_keeps_its_declaration(given, when, then) -> None:
    """A key once declared secret stays secret: set again later, it is still never shown."""
    given.config({"LICENSE": "l-123", "A": "1"}, secret=["LICENSE"])
    when.config({}, unset=["LICENSE"])
    assert then.environment().secret_keys == ["LICENSE"]
