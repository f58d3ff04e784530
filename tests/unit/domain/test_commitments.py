"""Hash scheme 3: an event's secret config values are hashed as commitments, so that its form
can be shown to anyone (no plaintext secret) and still hash to the event's hash, while an
edit of a secret value in the store still changes the hash the ledger computes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import rfc8785

from ledger.domain import commands as c
from ledger.domain import decisions
from ledger.domain.canonical import event_form
from ledger.domain.chain import event_hash
from ledger.domain.commitments import hashed_form
from ledger.domain.events import ConfigChanged, ReleaseCreated
from ledger.domain.gate_events import ChangeRequested
from ledger.domain.policies import Policy

from .conftest import CI

PASSWORD = "hunter2-hunter2"


def jcs_sha256(form: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(form)).hexdigest()


def documented_commitment(salt_hex: str, key: str, value: str) -> str:
    """HMAC-SHA256(salt, key || 0x00 || value), as the documentation gives it."""
    digest = hmac.new(bytes.fromhex(salt_hex), f"{key}\0{value}".encode(), hashlib.sha256)
    return f"<commitment:{digest.hexdigest()}>"


def shown(event: Any) -> bytes:
    """The event's form as an export shows it: RFC 8785 JSON of the hashed form."""
    return rfc8785.dumps(event_form(hashed_form(event)))


def test_a_config_change_commits_to_its_secret_values_and_hashes_without_them(given, when):
    given.config({"DB_HOST": "db.internal"}, secret=[])
    event = when.config(
        {"DB_PASSWORD": PASSWORD, "API_SECRET": "s3cr3t", "SIGNING": "opaque", "MODE": "fast"},
        secret=["SIGNING"],
    )
    assert isinstance(event, ConfigChanged) and event.hash_scheme == 3
    assert event.committed_keys == ("API_SECRET", "DB_PASSWORD", "SIGNING")
    assert event.commitment_salt is not None and len(bytes.fromhex(event.commitment_salt)) == 32
    assert event.set["DB_PASSWORD"] == PASSWORD  # the store keeps the value: the ledger needs it

    form = msgspec.json.decode(shown(event))
    values = form["event"]["set"]
    for key in event.committed_keys:
        assert values[key] == documented_commitment(event.commitment_salt, key, event.set[key])
    assert values["MODE"] == "fast"
    assert "commitment_salt" not in form["event"]
    assert form["event"]["committed_keys"] == ["API_SECRET", "DB_PASSWORD", "SIGNING"]
    for plaintext in (PASSWORD, "s3cr3t", "opaque", event.commitment_salt):
        assert plaintext.encode() not in shown(event)
    assert event_hash(event) == jcs_sha256(form)


def test_a_key_the_environment_declared_secret_before_is_committed(given, when):
    given.config({"PLAIN": "a", "HIDDEN": "b"}, secret=["HIDDEN"])
    event = when.config({"HIDDEN": "c", "PLAIN": "d"})
    assert event.committed_keys == ("HIDDEN",)


def test_an_event_without_secret_values_has_no_salt(given, when):
    event = when.config({"MODE": "fast"})
    assert event.committed_keys == () and event.commitment_salt is None
    stored = msgspec.json.encode(event)
    assert b"committed_keys" not in stored and b"commitment_salt" not in stored
    assert hashed_form(event) is event


def test_each_event_has_its_own_salt(given, when):
    first = when.config({"DB_PASSWORD": PASSWORD})
    second = when.config({"DB_PASSWORD": PASSWORD + "!"})
    third = when.config({"DB_PASSWORD": PASSWORD})
    salts = {e.commitment_salt for e in (first, second, third)}
    assert len(salts) == 3
    commitments = {hashed_form(e).set["DB_PASSWORD"] for e in (first, third)}
    assert len(commitments) == 2  # the same value twice: nobody can tell from the forms


@pytest.mark.parametrize(
    "edit",
    [
        {"set": {"DB_PASSWORD": "changed", "MODE": "fast"}},
        {"commitment_salt": "00" * 32},
        {"committed_keys": ()},
    ],
    ids=["secret value", "salt", "committed keys"],
)
def test_an_edit_of_a_secret_in_the_store_changes_the_hash(given, when, edit):
    event = when.config({"DB_PASSWORD": PASSWORD, "MODE": "fast"})
    assert event_hash(msgspec.structs.replace(event, **edit)) != event_hash(event)


def test_commitments_without_a_salt_are_not_hashed(given, when):
    event = when.config({"DB_PASSWORD": PASSWORD})
    with pytest.raises(ValueError, match="no salt"):
        event_hash(msgspec.structs.replace(event, commitment_salt=None))


def test_a_rollback_commits_to_the_secret_values_it_restores(given, when, then):
    given.releases("b1").config({"DB_PASSWORD": PASSWORD, "MODE": "a"})
    given.config({"TOKEN_X": "plain"}, secret=["TOKEN_X"]).config({"MODE": "b"})
    event = when.rollback(to=2)
    assert isinstance(event, ReleaseCreated) and event.restored_config is not None
    assert event.committed_keys == ("DB_PASSWORD",)
    form = msgspec.json.decode(shown(event))
    assert form["event"]["restored_config"]["MODE"] == "a"
    assert PASSWORD.encode() not in shown(event)
    assert event_hash(event) == jcs_sha256(form)


def test_a_requested_config_change_commits_to_its_secret_values(ledger):
    cmd = c.ChangeConfig(app="shop", env="prod", set={"DB_PASSWORD": PASSWORD, "K": "v"})
    asked = decisions.request_change(
        cmd, Policy(), CI, ledger.now, ttl=timedelta(hours=1), build=None, since_version=0
    )
    assert isinstance(asked, ChangeRequested) and asked.committed_keys == ("DB_PASSWORD",)
    assert isinstance(asked.command, c.ChangeConfig)
    assert asked.command.set["DB_PASSWORD"] == PASSWORD  # approved later, it is made as sent
    form = msgspec.json.decode(shown(asked))
    assert form["event"]["command"]["set"]["K"] == "v"
    assert PASSWORD.encode() not in shown(asked)
    assert event_hash(asked) == jcs_sha256(form)


def test_a_scheme_2_event_stored_before_keeps_its_hash_over_its_plain_form(given, when):
    """Written before commitments: no salt, the secret in its form, hashed as it was."""
    made = when.config({"DB_PASSWORD": PASSWORD})
    stored = msgspec.json.encode(
        msgspec.structs.replace(made, hash_scheme=2, committed_keys=(), commitment_salt=None)
    )
    old = msgspec.json.decode(stored, type=ConfigChanged)
    assert old.hash_scheme == 2 and old.committed_keys == ()
    assert event_hash(old) == jcs_sha256(event_form(old))
    assert PASSWORD.encode() in rfc8785.dumps(event_form(old))
