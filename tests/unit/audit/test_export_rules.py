"""The rules a verifier of an export applies to one line: RFC 8785 of parsed JSON exactly as
the `rfc8785` package writes it, I-JSON lines, and the hash of a form by its scheme."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.audit.export_rules import Malformed, event_hash_of, parse_line
from ledger.audit.jcs import MAX_EXACT, canonical

TEXT = st.text(st.characters(exclude_categories=("Cs",)))
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_EXACT, MAX_EXACT) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@given(VALUES)
def test_canonical_json_is_rfc8785(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value)


def test_names_sort_by_utf16_code_units_not_code_points() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}
    assert canonical(value) == rfc8785.dumps(value)
    assert canonical(value).index("😀".encode()) < canonical(value).index("ﬁ".encode())


@pytest.mark.parametrize("number", [1.5, 2**53, -(2**53), 1e3])
def test_a_number_a_form_never_holds_is_refused(number: float) -> None:
    with pytest.raises(ValueError):
        canonical({"n": number})


@pytest.mark.parametrize(
    "text",
    ['{"a": 1, "a": 2}', '{"a": NaN}', "[1]", "{", '{"a": {"b": 1, "b": 1}}'],
    ids=["duplicate", "NaN", "array", "truncated", "nested duplicate"],
)
def test_a_line_that_is_not_i_json_is_refused(text: str) -> None:
    with pytest.raises(Malformed):
        parse_line(text)


def test_the_schemes_hash_as_documented() -> None:
    form = {"event": {"b": "é", "a": 1}, "type": "FlagChanged"}
    jcs = b'{"event":{"a":1,"b":"\xc3\xa9"},"type":"FlagChanged"}'
    assert event_hash_of(3, form) == event_hash_of(2, form) == hashlib.sha256(jcs).hexdigest()
    legacy = b'FlagChanged\n{"a":1,"b":"\xc3\xa9"}'
    assert event_hash_of(1, form) == hashlib.sha256(legacy).hexdigest()
    with pytest.raises(Malformed, match="scheme 4"):
        event_hash_of(4, form)
