"""A write's W3C trace context is read as the Trace Context specification tells a receiver:
a valid traceparent is kept as sent, an invalid one is ignored (never an error), and tracestate
is kept only beside a valid traceparent, valid, and within 512 characters."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.wire.tracecontext import (
    MAX_TRACESTATE,
    TraceContext,
    parse_traceparent,
    parse_tracestate,
    trace_context,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
SAMPLED = f"00-{TRACE_ID}-{PARENT_ID}-01"
VERSION_00 = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


@pytest.mark.parametrize(
    "value",
    [SAMPLED, f"00-{TRACE_ID}-{PARENT_ID}-00", f"00-{TRACE_ID}-{PARENT_ID}-03"],
    ids=["sampled", "not-sampled", "other-flags"],
)
def test_a_valid_version_00_traceparent_is_kept_as_sent(value: str) -> None:
    assert parse_traceparent(value) == value


def test_optional_whitespace_around_the_value_is_not_part_of_it() -> None:
    assert parse_traceparent(f" \t{SAMPLED} ") == SAMPLED


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        SAMPLED.upper(),
        f"00-{TRACE_ID.upper()}-{PARENT_ID}-01",
        f"00-{'0' * 32}-{PARENT_ID}-01",
        f"00-{TRACE_ID}-{'0' * 16}-01",
        f"ff-{TRACE_ID}-{PARENT_ID}-01",
        f"00-{TRACE_ID}-{PARENT_ID}-01-extra",
        f"00-{TRACE_ID}-{PARENT_ID}",
        f"00-{TRACE_ID[:-1]}-{PARENT_ID}-01",
        f"00-{TRACE_ID}-{PARENT_ID}0-01",
        f"00_{TRACE_ID}_{PARENT_ID}_01",
        f"0-{TRACE_ID}-{PARENT_ID}-01",
        f"00-{TRACE_ID}-{PARENT_ID}-1",
        f"00-{TRACE_ID}-{PARENT_ID}-0g",
        f"{SAMPLED},{SAMPLED}",
    ],
    ids=[
        "empty",
        "garbage",
        "uppercase",
        "uppercase-trace-id",
        "zero-trace-id",
        "zero-parent-id",
        "version-ff",
        "version-00-longer",
        "no-flags",
        "short-trace-id",
        "long-parent-id",
        "wrong-delimiter",
        "short-version",
        "short-flags",
        "non-hex-flags",
        "sent-twice",
    ],
)
def test_an_invalid_traceparent_is_ignored(value: str) -> None:
    assert parse_traceparent(value) is None
    assert trace_context([value], ["congo=t61rcWkgMzE"]) == TraceContext()


def test_a_later_version_is_read_as_far_as_version_00_reaches() -> None:
    """Its trace id, parent id and sampled flag; the version is downgraded to 00."""
    assert parse_traceparent(f"cc-{TRACE_ID}-{PARENT_ID}-09-what-the-future-holds") == SAMPLED
    assert parse_traceparent(f"cc-{TRACE_ID}-{PARENT_ID}-02") == f"00-{TRACE_ID}-{PARENT_ID}-00"
    assert parse_traceparent(f"cc-{TRACE_ID}-{PARENT_ID}-01.what") is None


def test_tracestate_is_kept_beside_a_valid_traceparent() -> None:
    trace = trace_context([SAMPLED], ["rojo=00f067aa0ba902b7, congo=t61rcWkgMzE"])
    assert trace == TraceContext(
        traceparent=SAMPLED, tracestate="rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    )
    assert trace.headers() == {"traceparent": SAMPLED, "tracestate": trace.tracestate}


def test_tracestate_sent_as_several_fields_is_one_list() -> None:
    trace = trace_context([SAMPLED], ["rojo=1", "", "congo=2"])
    assert trace.tracestate == "rojo=1,congo=2"


def test_a_traceparent_alone_has_no_tracestate_header() -> None:
    assert trace_context([SAMPLED]).headers() == {"traceparent": SAMPLED}
    assert trace_context([SAMPLED], [" , "]).tracestate is None


@pytest.mark.parametrize(
    "value",
    [
        "no-equals",
        "Upper=1",
        "=1",
        "congo=",
        "congo=a,congo=b",
        "congo=trailing,space=ok ,comma=a=b",
        "tab=a\tb",
        "congo=" + "x" * 257,
        "k" * 257 + "=1",
        ",".join(f"k{n}=v" for n in range(33)),
    ],
    ids=[
        "no-equals",
        "uppercase-key",
        "empty-key",
        "empty-value",
        "key-twice",
        "equals-in-value",
        "tab-in-value",
        "long-value",
        "long-key",
        "33-entries",
    ],
)
def test_an_invalid_tracestate_is_left_out_and_the_traceparent_kept(value: str) -> None:
    assert parse_tracestate(value) is None
    assert trace_context([SAMPLED], [value]) == TraceContext(traceparent=SAMPLED)


def test_tracestate_keys_may_name_a_tenant_and_values_keep_their_inner_spaces() -> None:
    value = "fw529a3039@dt=FzbmRzIHRo, x/y*z_-=  two words"
    assert parse_tracestate(value) == "fw529a3039@dt=FzbmRzIHRo,x/y*z_-=  two words"


def test_a_long_tracestate_loses_its_long_entries_first_then_its_last_ones() -> None:
    long_entry = "long=" + "l" * 200
    short = [f"k{n:02}=" + "v" * 40 for n in range(20)]  # 44 characters each
    bounded = parse_tracestate(",".join([short[0], long_entry, *short[1:]]))
    assert bounded is not None and len(bounded) <= MAX_TRACESTATE
    assert "long=" not in bounded
    kept = bounded.split(",")
    assert kept == short[: len(kept)] and len(kept) == (MAX_TRACESTATE + 1) // 45


@given(st.text(max_size=80), st.text(max_size=80))
def test_whatever_arrives_is_either_ignored_or_a_version_00_traceparent(
    traceparent: str, tracestate: str
) -> None:
    trace = trace_context([traceparent], [tracestate])
    assert trace.traceparent is None or VERSION_00.fullmatch(trace.traceparent)
    assert trace.tracestate is None or trace.traceparent is not None
    assert len(trace.tracestate or "") <= MAX_TRACESTATE
