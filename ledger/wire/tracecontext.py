"""W3C Trace Context (https://www.w3.org/TR/trace-context/): the ``traceparent`` and
``tracestate`` a writer sends, read as the specification tells a receiver to read them.

An invalid ``traceparent`` is ignored, not refused, and ``tracestate`` is read only beside a
valid one. An invalid ``tracestate`` is left out; a long one is cut by whole entries to
``MAX_TRACESTATE`` characters (those over ``LONG_ENTRY`` go first, then from the end)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from msgspec import Struct

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_KEY = re.compile(r"[a-z0-9][a-z0-9_\-*/@]{0,255}")
_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
_OWS = " \t"
VERSION_00_LENGTH = 55
INVALID_VERSION = "ff"
SAMPLED = 0x01
MAX_ENTRIES = 32
MAX_TRACESTATE = 512
LONG_ENTRY = 128


class TraceContext(Struct, frozen=True, kw_only=True):
    """The trace a write belongs to: a valid ``traceparent`` (version 00) and its
    ``tracestate``, or nothing."""

    traceparent: str | None = None
    tracestate: str | None = None

    def headers(self) -> dict[str, str]:
        """The headers (or CloudEvents extension attributes) that carry it on."""
        carried = {"traceparent": self.traceparent, "tracestate": self.tracestate}
        return {name: value for name, value in carried.items() if value is not None}


NO_TRACE = TraceContext()


def trace_context(traceparent: Iterable[str], tracestate: Iterable[str] = ()) -> TraceContext:
    """The trace context of the fields received (a field sent twice is one list, as HTTP
    combines it: two ``traceparent`` fields make an invalid one)."""
    parent = parse_traceparent(",".join(traceparent))
    if parent is None:
        return NO_TRACE
    return TraceContext(traceparent=parent, tracestate=parse_tracestate(",".join(tracestate)))


def parse_traceparent(value: str) -> str | None:
    """The ``traceparent`` in version 00 form, or None when it is invalid. A later version is
    read as far as version 00 reaches (its trace id, parent id and sampled flag)."""
    value = value.strip(_OWS)
    match = _TRACEPARENT.match(value)
    if match is None:
        return None
    version, trace_id, parent_id, flags = match.groups()
    if version == INVALID_VERSION or not int(trace_id, 16) or not int(parent_id, 16):
        return None
    if version == "00":
        return value if len(value) == VERSION_00_LENGTH else None
    if len(value) > VERSION_00_LENGTH and value[VERSION_00_LENGTH] != "-":
        return None
    sampled = "01" if int(flags, 16) & SAMPLED else "00"
    return f"00-{trace_id}-{parent_id}-{sampled}"


def parse_tracestate(value: str) -> str | None:
    """The ``tracestate`` list without empty entries or optional whitespace, or None when it
    is empty or invalid (a malformed entry, a key twice, more than 32 entries)."""
    entries = [entry.strip(_OWS) for entry in value.split(",")]
    entries = [entry for entry in entries if entry]
    if not entries or len(entries) > MAX_ENTRIES:
        return None
    keys = [entry.partition("=")[0] for entry in entries]
    if len(set(keys)) != len(keys) or not all(_is_entry(entry) for entry in entries):
        return None
    return ",".join(_bounded(entries)) or None


def _is_entry(entry: str) -> bool:
    key, equals, value = entry.partition("=")
    return bool(equals) and bool(_KEY.fullmatch(key)) and bool(_VALUE.fullmatch(value))


def _bounded(entries: list[str]) -> list[str]:
    """Whole entries, at most MAX_TRACESTATE characters joined: long ones leave first, then
    the last ones."""
    if len(",".join(entries)) <= MAX_TRACESTATE:
        return entries
    kept = [entry for entry in entries if len(entry) <= LONG_ENTRY]
    while len(",".join(kept)) > MAX_TRACESTATE:
        kept.pop()
    return kept
