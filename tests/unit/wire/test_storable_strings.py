"""The one rule for strings: NUL and lone surrogates are refused (no store can keep them), every
other character is taken, and every string a client sends is typed with the rule, so the
OpenAPI document states it for each field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from ledger.domain.errors import Invalid
from ledger.domain.text import decode_json, is_storable, unstorable_at
from ledger.http.openapi import openapi_document
from ledger.http.routes import all_routes
from ledger.ingest.schema import BuildContent, Hints, ServiceContent

UNSTORABLE = ["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]


@pytest.mark.parametrize("text", ["", "plain", "é", "😀", "\t\n\r", "\x01\x7f", "\ufffd", "\uffff"])
def test_every_character_but_nul_and_lone_surrogates_is_storable(text: str) -> None:
    assert is_storable(text)


@pytest.mark.parametrize("bad", UNSTORABLE)
def test_nul_and_lone_surrogates_are_not(bad: str) -> None:
    assert not is_storable(bad)
    assert not is_storable(f"before{bad}after")


def test_the_path_of_the_first_bad_string_is_named_keys_included() -> None:
    value = {"set": {"A": "ok", "B": "x\x00"}, "unset": ["ok"]}
    assert unstorable_at(value) == "set.B"
    assert unstorable_at({"items": [{"ok": 1}, {"reason": "\ud800"}]}) == "items[1].reason"
    assert unstorable_at({"set": {"K\x00": "v"}}) == "set"
    assert unstorable_at([{"reason": "\x00"}], "") == "[0].reason"
    assert unstorable_at({"a": ["ok", 1, None, {"b": "fine"}]}) is None


def test_a_value_nested_as_deep_as_the_decoder_allows_is_walked_whole() -> None:
    value: Any = "\x00"
    for _ in range(5000):
        value = [value]
    assert unstorable_at(value) == "[0]" * 5000


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"reason": "a\\ud800b"}', "reason"),
        (b'{"set": {"A": "\\udfff"}}', "set.A"),
        (b'{"set": {"\\ud800": "1"}}', "set"),
        (b'{"reason": "a\x00b"}', "reason"),
        (b'{"reason": "a\xed\xa0\x80b"}', "reason"),
    ],
    ids=["escaped-high", "escaped-low", "key", "raw-nul", "raw-surrogate"],
)
def test_a_body_msgspec_refuses_for_a_bad_character_is_invalid_naming_the_field(
    raw: bytes, field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        decode_json(raw)
    assert refused.value.field == field


@pytest.mark.parametrize("raw", [b'{"a": "\xff"}', b'{"a": "tab\there"}', b'{"a": 1,}', b"[NaN]"])
def test_any_other_malformed_body_stays_malformed(raw: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_json(raw)


def test_an_escaped_nul_decodes_for_the_wire_shapes_to_refuse() -> None:
    assert decode_json(b'{"reason": "a\\u0000b", "emoji": "\\ud83d\\ude00"}') == {
        "reason": "a\x00b",
        "emoji": "😀",
    }


# --------------------------------------------------------------------------------------------
# Every string a client sends is typed with the rule


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def strings(
    schema: dict[str, Any], components: dict[str, Any], at: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(place, schema) of every string in a request body's schema, dict keys included."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
    schema = _resolve(schema, components)
    for member in schema.get("anyOf", []):
        yield from strings(member, components, at, seen)
    if schema.get("type") == "string":
        yield at, schema
    if schema.get("type") == "array":
        yield from strings(schema.get("items", {}), components, f"{at}[]", seen)
    for name, member in schema.get("properties", {}).items():
        yield from strings(member, components, f"{at}.{name}", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield f"{at}{{key}}", {"type": "string", **schema.get("propertyNames", {})}
        yield from strings(schema["additionalProperties"], components, f"{at}{{}}", seen)


def request_strings() -> Iterator[tuple[str, dict[str, Any]]]:
    document = openapi_document(all_routes())
    components = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                yield from strings(body["schema"], components, f"{method} {path}", set())
    for cls in (ServiceContent, BuildContent, Hints):  # what the ledger takes from a CDEvent
        schemas, more = msgspec.json.schema_components([cls])
        yield from strings(schemas[0], more, f"CDEvent {cls.__name__}", set())


TIMESTAMPS = (
    "committed_at",
    "finished_at",
    "timestamp",
    "observed_at",
    "started_at",
    ".start",
    ".end",
)
"""Decoded as RFC 3339 timestamps (a NUL is no timestamp); msgspec describes them as strings."""
SAMPLES = ["a", "x" * 20, "0123abcd", "http://host/a", "sha256:" + "a" * 64]


def test_every_string_of_every_request_body_has_a_pattern_that_refuses_them() -> None:
    found = list(request_strings())
    assert len(found) > 50
    unruled = []
    for place, schema in found:
        if "enum" in schema or "format" in schema or place.endswith(TIMESTAMPS):
            continue  # a choice, a timestamp, a uuid: no free text
        pattern = schema.get("pattern")
        if pattern is None:
            unruled.append(place)
            continue
        for bad in UNSTORABLE:
            for sample in SAMPLES:
                for text in (sample + bad, bad + sample, sample[:1] + bad + sample[1:]):
                    if re.search(pattern, text):
                        unruled.append(f"{place} takes {text!r}")
    assert unruled == []
