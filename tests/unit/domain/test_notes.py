"""The text formats of checkpoints as notes: origins as C2SP asks, the exact body, and notes
that are not notes refused."""

from __future__ import annotations

import pytest

from ledger.domain.notes import (
    DEFAULT_ORIGIN,
    checkpoint_body,
    default_origin,
    name_problem,
    parse_checkpoint_body,
    split_note,
)
from ledger.settings import Settings

ROOT = bytes(range(32))


def test_a_checkpoint_body_is_origin_size_and_base64_root_on_three_lines() -> None:
    body = checkpoint_body("ledger.example.com/prod", 20852163, ROOT)
    assert body == (
        "ledger.example.com/prod\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    )
    assert parse_checkpoint_body(body) == ("ledger.example.com/prod", 20852163, ROOT)
    assert parse_checkpoint_body(checkpoint_body("l", 0, ROOT)).tree_size == 0


@pytest.mark.parametrize(
    "body",
    [
        "l\n1\n",  # no root
        "l\n01\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # a leading zero
        "l\n1\nAAECAw==\n",  # not 32 bytes
        "l b\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # a space in the origin
        "l\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # no final newline
    ],
)
def test_what_is_not_a_checkpoint_body_is_refused(body: str) -> None:
    with pytest.raises(ValueError):
        parse_checkpoint_body(body)


@pytest.mark.parametrize(
    "name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\x00b", "a\x7fb", "a\ud800"]
)
def test_an_origin_with_a_space_a_plus_or_a_control_character_is_refused(name: str) -> None:
    assert name_problem(name) is not None
    with pytest.raises(ValueError, match="LEDGER_LOG_ORIGIN"):
        Settings.from_env({"LEDGER_LOG_ORIGIN": name or " "})


@pytest.mark.parametrize(
    ("public_url", "origin"),
    [
        (None, DEFAULT_ORIGIN),
        ("https://Ledger.Example.com/", "ledger.example.com"),
        ("https://ci:secret@ledger.example.com:8443/prod/", "ledger.example.com:8443/prod"),
        ("https://ledger.example.com:port/", DEFAULT_ORIGIN),
    ],
)
def test_the_default_origin_is_the_public_url_without_scheme_or_credentials(
    public_url: str | None, origin: str
) -> None:
    assert default_origin(public_url) == origin
    settings = Settings.from_env({"LEDGER_PUBLIC_URL": public_url} if public_url else {})
    assert settings.checkpoint_origin() == origin
    named = Settings.from_env({"LEDGER_LOG_ORIGIN": "ledger.example.com/prod"})
    assert named.checkpoint_origin() == "ledger.example.com/prod"


@pytest.mark.parametrize(
    "note",
    [
        "body\n\n\u2014 name AAAA\n",  # a signature of no more than its key hash
        "body\n\n\u2014 name AAAAAAAA",  # no final newline
        "body\n\n- name AAAAAAAA\n",  # not an em dash
        "body\n\n\u2014 a+b AAAAAAAA\n",  # a key name with a plus
        "bo\x01dy\n\n\u2014 name AAAAAAAA\n",  # a control character
    ],
)
def test_what_is_not_a_signed_note_is_refused(note: str) -> None:
    with pytest.raises(ValueError):
        split_note(note)


def test_a_note_splits_at_its_last_empty_line() -> None:
    body, signatures = split_note("a\n\nb\n\n\u2014 n AAAAAAAA\n\u2014 m AAAAAAAAAAA=\n")
    assert body == "a\n\nb\n"
    assert [(s.name, s.key_hash, s.signature) for s in signatures] == [
        ("n", b"\0\0\0\0", b"\0\0"),
        ("m", b"\0\0\0\0", b"\0\0\0\0"),
    ]
