"""The event form of hash schemes 2 and 3, and its RFC 8785 (JCS) canonical JSON.

The **event form** of an event is the JSON object::

    {"event": E, "type": T}

- ``T`` is the name of the event's type (``"ReleaseCreated"``, ``"FlagChanged"``, …).
- ``E`` is the event as the ledger encodes it (msgspec JSON of the event's Struct: the bytes
  it stores for an event of class version 1, before compression or encryption): one member
  per field, by the field's name; a field equal to its default is left out where the event's
  type says so (every ledger event, ``GateFacts``, ``DriftFacts``), as stored. ``E`` holds
  ``prev_hash`` (so the hash covers the chain) and ``hash_scheme`` (2 or 3). Values: strings,
  integers, ``true``/``false``, ``null``, arrays (tuples and lists) and objects (nested
  records, and config maps keyed by config key); UUIDs as lowercase hyphenated strings;
  datetimes as the RFC 3339 strings stored (``2025-03-04T14:03:00Z``,
  ``2025-03-04T14:03:00.120000+02:00``: UTC as ``Z``, microseconds when not zero).

For scheme 3, ``E`` is the event's hashed form (``ledger.domain.commitments``): its secret
config values replaced by commitments and its ``commitment_salt`` left out.

The hash of scheme 2 or 3 is SHA-256 of the form canonicalised with RFC 8785, as lowercase hex. A
verifier in any language parses ``E`` as exported, wraps it in the form and canonicalises it
with any RFC 8785 implementation. Nothing else is hashed: not the row's position, topic or
stream columns (the chain, the stream checks and the Merkle leaf cover those).

``canonical_json`` writes the same bytes as RFC 8785 with msgspec (about 30 times faster than
a JCS library in Python: hashing is on the write path and in every verification). They are
the same for the ledger's events because of what the events hold (tests check each point):

- No floats (JCS's number rules) and no bytes anywhere in an event's type; integers are
  versions, percents and counts, far inside JCS's exact range (±2^53 - 1), where both write
  plain decimal digits.
- Object keys: field names are ASCII identifiers, and the only maps are config maps, keyed by
  config keys (``CONFIG_KEY_PATTERN``: ASCII, since the first version). For ASCII, sorting by
  code points (msgspec) is sorting by UTF-16 code units (JCS).
- Strings: msgspec escapes exactly what JCS escapes (``"``, ``\\``, the controls U+0000 to
  U+001F: ``\\b \\t \\n \\f \\r``, else ``\\u00xx`` in lowercase hex) and writes every other
  character as UTF-8, for every code point. Lone surrogates cannot be encoded by either, and
  no event holds one (``ledger.domain.text``: the ledger takes in storable text only).
- No whitespace between tokens, ``true``/``false``/``null`` alike.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from ledger.domain.events import LedgerEvent

FORM_EVENT = "event"
FORM_TYPE = "type"
_sorted = msgspec.json.Encoder(order="sorted")
_OPENING = b'{"' + FORM_EVENT.encode() + b'":'


def event_form(event: LedgerEvent) -> dict[str, Any]:
    """The event form as plain JSON values: what an RFC 8785 library canonicalises."""
    return {FORM_EVENT: msgspec.to_builtins(event), FORM_TYPE: type(event).__name__}


def canonical_json(event: LedgerEvent) -> bytes:
    """The RFC 8785 canonical JSON of the event's form ("event" sorts before "type")."""
    return _OPENING + _sorted.encode(event) + _type_member(type(event))


@cache
def _type_member(cls: type) -> bytes:
    return b',"' + FORM_TYPE.encode() + b'":' + msgspec.json.encode(cls.__name__) + b"}"
