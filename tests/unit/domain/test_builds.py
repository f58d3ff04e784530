"""A build is recorded once; recording the same build again is idempotent."""

from __future__ import annotations

import pytest

from ledger.domain.errors import Conflict, Invalid
from ledger.domain.events import Artifact, BuildRecorded, Pipeline


def test_a_build_is_recorded_with_its_facts(given, when, then) -> None:
    pipeline = Pipeline(name="main", run_id="981", url="https://ci/981")
    event = when.build("b1", commit="A1B2C3D", branch="main", pipeline=pipeline)
    assert isinstance(event, BuildRecorded)
    assert (event.build_id, event.commit, event.pipeline) == ("b1", "a1b2c3d", pipeline)
    assert then.build("b1") == event


def test_without_a_build_id_the_digest_names_the_build(given, when) -> None:
    artifact = Artifact(digest="sha256:ABCDEF0123456789ABCDEF")
    event = when.build(None, artifact=artifact)
    assert event.build_id == "abcdef012345"


def test_the_same_facts_again_append_nothing(given, when, then) -> None:
    given.build("b1", branch="main")
    count = then.event_count()
    assert when.build("b1", branch="main") is None
    assert then.event_count() == count


def test_the_commit_is_compared_without_case(given, when) -> None:
    given.build("b1", commit="a1b2c3d")
    assert when.build("b1", commit="A1B2C3D") is None


@pytest.mark.parametrize(
    "other", [{"status": "failed"}, {"commit": "ffff0000"}, {"branch": "hotfix"}]
)
def test_other_facts_for_the_same_build_are_a_conflict(given, when, then, other) -> None:
    given.build("b1")
    count = then.event_count()
    with pytest.raises(Conflict) as refused:
        when.build("b1", **other)
    assert refused.value.field == "build_id"
    assert then.event_count() == count


def test_a_failed_build_stays_failed(given, when, then) -> None:
    given.build("b1", status="failed")
    with pytest.raises(Conflict):
        when.build("b1", status="succeeded")
    assert then.build("b1").status == "failed"


@pytest.mark.parametrize("digest", ["sha256:", "sha256:../../etc", "sha256:a b"])
def test_a_digest_that_makes_no_valid_build_id_is_invalid(given, when, then, digest) -> None:
    with pytest.raises(Invalid):
        when.build(None, artifact=Artifact(digest=digest))
    assert then.event_count() == 1
