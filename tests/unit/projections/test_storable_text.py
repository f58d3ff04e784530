"""Text PostgreSQL refuses (NUL, lone surrogates) is written to the views with U+FFFD in its
place, the same on both backends; any other text is written as it is."""

from __future__ import annotations

import msgspec

from projections.rows import REPLACEMENT, _json, storable, storable_rows


def test_nul_and_lone_surrogates_become_the_replacement_character() -> None:
    assert storable("v\x002") == f"v{REPLACEMENT}2"
    assert storable("a\ud800b\udfff") == f"a{REPLACEMENT}b{REPLACEMENT}"


def test_other_text_is_left_as_it_is() -> None:
    for text in ("plain", "café ✓ 🚀", "tab\tand\nnewline", "\\u0000 as typed"):
        assert storable(text) == text


def test_rows_keep_their_other_values() -> None:
    assert storable_rows([("a\x00", 1, None, b"\x00")]) == [(f"a{REPLACEMENT}", 1, None, b"\x00")]


def test_json_of_such_text_holds_the_replacement_character() -> None:
    value = {"schema_version": "v\x002", "keys": ["\ud800"]}
    assert msgspec.json.decode(_json(value)) == {
        "schema_version": f"v{REPLACEMENT}2",
        "keys": [REPLACEMENT],
    }
