"""RFC 8785 (JCS) canonical JSON of parsed JSON values, for the forms of an export.

The ledger hashes its own events with msgspec (``ledger.domain.canonical``); an export's
forms are plain JSON, which a verifier must canonicalise as RFC 8785 says, whatever they hold:
objects with members sorted by the UTF-16 code units of their names, strings escaped as
ECMAScript's JSON.stringify does (which msgspec matches for every code point), no whitespace.
The only numbers a form holds are integers within ±(2^53 - 1): any other number is an error.
"""

from __future__ import annotations

from typing import Any

import msgspec

MAX_EXACT = 2**53 - 1
_string = msgspec.json.encode


def canonical(value: Any) -> bytes:
    """The RFC 8785 serialisation of a parsed JSON value; ValueError for what a form never
    holds (a fraction, an integer beyond ±(2^53 - 1), a lone surrogate)."""
    out = bytearray()
    _write(value, out)
    return bytes(out)


def _write(value: Any, out: bytearray) -> None:
    if value is None or isinstance(value, bool):
        out += b"null" if value is None else b"true" if value else b"false"
    elif isinstance(value, int):
        if abs(value) > MAX_EXACT:
            raise ValueError(f"the integer {value} is beyond ±(2^53 - 1)")
        out += str(value).encode()
    elif isinstance(value, str):
        out += _text(value)
    elif isinstance(value, list):
        out += b"["
        for index, item in enumerate(value):
            out += b"," if index else b""
            _write(item, out)
        out += b"]"
    elif isinstance(value, dict):
        out += b"{"
        for index, name in enumerate(sorted(value, key=_utf16)):
            out += b"," if index else b""
            out += _text(name) + b":"
            _write(value[name], out)
        out += b"}"
    else:
        raise ValueError(f"a form holds no {type(value).__name__} ({value!r})")


def _text(text: str) -> bytes:
    try:
        return _string(text)
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate") from None


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")
