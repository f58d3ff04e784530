"""The one rule for the text the ledger takes in: only what both stores can keep.

PostgreSQL's ``text`` cannot hold NUL (U+0000), and a lone surrogate (U+D800-U+DFFF) is no
character at all: UTF-8 cannot encode it, so no store keeps it. JSON can carry both
(``"\\u0000"``, ``"\\ud800"``). Every wire shape types its strings with ``Storable`` (or a
pattern that excludes ``UNSTORABLE`` itself), so the OpenAPI document states the rule, and a
body that breaks it is refused naming the field before anything is stored.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ledger.domain.errors import Invalid

UNSTORABLE = r"\x00\ud800-\udfff"
"""The characters no store can keep, as the body of a regular-expression character class."""
STORABLE_PATTERN = rf"^[^{UNSTORABLE}]*$"
Storable = Annotated[str, Meta(pattern=STORABLE_PATTERN)]
"""A string of storable characters: the base of every free-text field of a wire shape."""
RULE = "NUL (U+0000) and lone surrogates (U+D800-U+DFFF) cannot be stored"
_UNSTORABLE = re.compile(f"[{UNSTORABLE}]")


def explained(error: msgspec.ValidationError) -> str:
    """msgspec's message for a refused value, with the storable rule in words, not its regex."""
    return str(error).replace(f"Expected `str` matching regex {STORABLE_PATTERN!r}", RULE)


def is_storable(text: str) -> bool:
    """Whether every character of the text can be stored."""
    return _UNSTORABLE.search(text) is None


def unstorable_at(value: Any, path: str = "") -> str | None:
    """The path (``a.b[0].c``) of the first string, or object key, in a JSON value that breaks
    the rule (a bad key is named by its object's path); None when everything can be stored.
    Walked with a stack of its own: a body nested as deep as the decoder allows is no error."""
    pending: list[tuple[str, Any]] = [(path, value)]
    while pending:
        at, item = pending.pop()
        if isinstance(item, str) and not is_storable(item):
            return at or "body"
        if isinstance(item, dict):
            if not all(is_storable(k) for k in item if isinstance(k, str)):
                return at or "body"
            members = [(f"{at}.{k}" if at else str(k), v) for k, v in item.items()]
            pending.extend(reversed(members))
        elif isinstance(item, list):
            pending.extend(reversed([(f"{at}[{i}]", v) for i, v in enumerate(item)]))
    return None


def refuse_unstorable(value: Any, prefix: str = "") -> None:
    """Raise Invalid naming the field when a JSON value holds a string that cannot be stored."""
    at = unstorable_at(value, prefix)
    if at is not None:
        raise Invalid(f"{at}: {RULE}", field=at)


def decode_json(raw: bytes, prefix: str = "") -> Any:
    """The JSON value of the bytes. A body msgspec refuses only because it carries a lone
    surrogate escape or a raw NUL is refused as Invalid naming the field (not as malformed
    JSON); any other malformed body raises msgspec's DecodeError."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        try:
            lenient = json.loads(raw, strict=False)  # only to find the field at fault
        except (ValueError, RecursionError):
            raise error from None
        refuse_unstorable(lenient, prefix)
        raise
