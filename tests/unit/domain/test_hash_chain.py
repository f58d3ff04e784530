"""Each event carries the hash of its stream's previous event: edits and gaps are detectable."""

from __future__ import annotations

import itertools

import msgspec
import pytest

from ledger.domain import commands as c
from ledger.domain.chain import GENESIS, event_hash
from ledger.domain.events import ReleaseCreated


@pytest.fixture
def busy(given):
    """Several streams written in turns: app, builds, two environments."""
    given.build("b1").config({"A": "1"}).deploy("b1").flag("f", True).deploy("b1", env="staging")
    given.migration("m1", reversible=False).build("b2").deploy("b2", strategy="canary")
    return given.rollout(3, status="completed").rollback(to=2, force=True)


def test_the_first_event_of_each_stream_links_to_genesis(busy, then) -> None:
    firsts = [e for e in then.ledger.events if e.originator_version == 1]
    assert len(firsts) == 5
    assert {e.prev_hash for e in firsts} == {GENESIS}


def test_every_later_event_links_to_its_streams_previous_event(busy, then) -> None:
    for stream_id in {e.originator_id for e in then.ledger.events}:
        events = then.ledger.stream_events(stream_id)
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
        for previous, event in itertools.pairwise(events):
            assert event.prev_hash == event_hash(previous)


def test_a_stream_state_knows_the_hash_of_its_last_event(busy, then) -> None:
    for stream_id, state in then.ledger.streams.items():
        last = then.ledger.stream_events(stream_id)[-1]
        assert (state.last_hash, state.version) == (event_hash(last), last.originator_version)


@pytest.mark.parametrize(
    "edit", [{"actor": "mallory"}, {"reason": "nothing to see"}, {"prev_hash": GENESIS}]
)
def test_any_edit_changes_the_hash(busy, then, edit) -> None:
    event = then.ledger.events[-1]
    assert event_hash(msgspec.structs.replace(event, **edit)) != event_hash(event)


def test_the_hash_survives_a_round_trip_through_json(busy, then) -> None:
    for event in then.ledger.events:
        stored = msgspec.json.decode(msgspec.json.encode(event), type=type(event))
        assert event_hash(stored) == event_hash(event)


def test_a_field_added_later_with_a_default_leaves_old_hashes_unchanged(busy, then) -> None:
    """Schema evolution must not break the chain: old events hash the same under a new class."""
    for event in then.ledger.events:

        class Evolved(type(event), frozen=True, kw_only=True):  # type: ignore[misc]
            note_added_later: str | None = None

        evolved = msgspec.json.decode(msgspec.json.encode(event), type=Evolved)
        assert msgspec.json.encode(evolved, order="sorted") == msgspec.json.encode(
            event, order="sorted"
        )
        assert event_hash(msgspec.json.decode(msgspec.json.encode(evolved), type=type(event))) == (
            event_hash(event)
        )


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_writes_trace_context_is_kept_on_its_event_and_hashed(ledger) -> None:
    traced = c.Context(actor="ci-bot", actor_kind="ci", traceparent=TRACEPARENT, tracestate="k=v")
    event = ledger.execute(c.CreateApp(app="shop"), traced)
    assert (event.traceparent, event.tracestate) == (TRACEPARENT, "k=v")
    assert event_hash(msgspec.structs.replace(event, traceparent=None)) != event_hash(event)


def test_an_event_without_a_trace_is_stored_as_before_the_trace_fields_came(busy, then) -> None:
    """The fields are left out when empty, so no stored event's bytes (or hash) changed."""
    for event in then.ledger.events:
        stored = msgspec.json.encode(event)
        assert b"traceparent" not in stored and b"tracestate" not in stored
        decoded = msgspec.json.decode(stored, type=type(event))
        assert decoded.traceparent is None and event_hash(decoded) == event_hash(event)


STORED_BEFORE_TRACES = (
    b'{"originator_id":"00000000-0000-0000-0000-000000000001","originator_version":2,'
    b'"timestamp":"2025-03-04T14:03:00Z","event_id":"00000000-0000-0000-0000-000000000002",'
    b'"app":"shop","env":"prod","actor":"ci-bot","actor_kind":"ci","authenticated":true,'
    b'"occurred_at":"2025-03-04T14:02:00Z","correlation_id":"run-7","prev_hash":"'
    + b"a"
    * 64
    + b'","cause":"deploy","release":{"version":1,"build_id":"b1","commit":"abc1234",'
    b'"artifact_digest":"sha256:' + b"f" * 64 + b'","config_version":0,"status":"succeeded",'
    b'"rollout_percent":100,"strategy":"all","steps":[],"description":null,"rollback_of":null,'
    b'"promoted_from":null}}'
)
"""A release event as the ledger stored it before events carried a trace context, and its hash."""
HASH_BEFORE_TRACES = "c7ae1068cb83511b70331afbbfbe7b377899a23730e28850b78c785eb4ce5f6e"


def test_an_event_stored_before_traces_keeps_its_bytes_and_its_hash() -> None:
    event = msgspec.json.decode(STORED_BEFORE_TRACES, type=ReleaseCreated)
    assert (event.traceparent, event.tracestate) == (None, None)
    assert msgspec.json.encode(event) == STORED_BEFORE_TRACES
    assert event_hash(event) == HASH_BEFORE_TRACES
