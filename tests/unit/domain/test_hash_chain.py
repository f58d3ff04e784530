"""Each event carries the hash of its stream's previous event: edits and gaps are detectable."""

from __future__ import annotations

import itertools

import msgspec
import pytest

from ledger.domain.chain import GENESIS, event_hash


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
