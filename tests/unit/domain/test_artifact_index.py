"""A build recorded under an id of its own indexes its digest for its app, once: so a digest
seen running is known to be recorded whatever its build's id."""

from __future__ import annotations

from ledger.domain import decisions
from ledger.domain.artifacts import ArtifactIndex
from ledger.domain.chain import GENESIS, event_hash
from ledger.domain.events import Artifact, ArtifactIndexed, BuildRecorded
from ledger.domain.model import evolve, snapshot_of
from ledger.domain.names import artifact_id

from .conftest import APP, CI, START, Given, Ledger, Then, digest_of


def recorded(given: Given, then: Then, bid: str | None, digest: str) -> BuildRecorded:
    given.build(bid, artifact=Artifact(digest=digest))
    return then.build(bid or decisions.default_build_id(digest))


def test_a_build_of_its_own_id_indexes_its_digest_in_a_stream_of_its_own(
    given: Given, then: Then, ledger: Ledger
) -> None:
    build = recorded(given, then, "b42", digest_of("b42"))
    event = decisions.index_artifact(None, build, CI, START)
    assert isinstance(event, ArtifactIndexed)
    assert (event.app, event.digest, event.build_id) == (APP, digest_of("b42"), "b42")
    stream = artifact_id(APP, digest_of("b42"))
    assert (event.originator_id, event.originator_version) == (stream, 1)
    assert event.prev_hash == GENESIS and event.kind is None and event.cloudevent_type is None
    ledger.append(event)
    state = ledger.streams[event.originator_id]
    assert isinstance(state, ArtifactIndex) and state.last_hash == event_hash(event)
    assert (state.digest, state.build_id, state.version) == (digest_of("b42"), "b42", 1)


def test_a_digest_indexed_before_is_not_indexed_again(
    given: Given, then: Then, ledger: Ledger
) -> None:
    build = recorded(given, then, "b42", digest_of("b42"))
    first = decisions.index_artifact(None, build, CI, START)
    assert first is not None
    ledger.append(first)
    index = ledger.streams[first.originator_id]
    assert isinstance(index, ArtifactIndex)
    rebuilt = recorded(given, then, "b42-again", digest_of("b42"))
    assert decisions.index_artifact(index, rebuilt, CI, START) is None


def test_a_build_named_by_its_digest_needs_no_index(given: Given, then: Then) -> None:
    build = recorded(given, then, None, digest_of("b7"))
    assert decisions.index_artifact(None, build, CI, START) is None


def test_an_index_is_restored_from_its_snapshot(given: Given, then: Then) -> None:
    build = recorded(given, then, "b42", digest_of("b42"))
    event = decisions.index_artifact(None, build, CI, START)
    assert event is not None
    state = evolve(None, event)
    assert evolve(None, snapshot_of(state, START)) == state
