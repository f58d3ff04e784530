"""service.rolledback names an artifact, not a release: the release to roll back to is the
newest one before the current that ran the artifact and succeeded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from ledger.domain.errors import Conflict
from ledger.domain.model import Environment, Release
from ledger.ingest.cdevents import RollbackPlan
from ledger.ingest.service import rollback_version

A, B, C = (f"sha256:{n * 64}" for n in "abc")
PLAN = RollbackPlan(app="checkout", env="staging", digest=A, reason="rolled back by /argocd")


def release(version: int, digest: str, status: str = "superseded", **kw: Any) -> Release:
    fields: dict[str, Any] = {
        "version": version,
        "build_id": digest[7:19],
        "commit": digest[7:19],
        "artifact_digest": digest,
        "config_version": 1,
        "status": status,
        "rollout_percent": 100,
        "strategy": "all",
        "steps": (),
        "rollback_of": None,
        "promoted_from": None,
        "cause": "deploy",
        "description": None,
        "actor": "argocd",
        "created_at": datetime(2025, 3, 4, tzinfo=UTC),
        "event_version": version,
    }
    return Release(**(fields | kw))


def environment(*releases: Release) -> Environment:
    return Environment(
        id=uuid4(),
        version=len(releases),
        last_hash="",
        app="checkout",
        env="staging",
        releases=list(releases),
    )


def test_the_newest_earlier_good_release_of_the_artifact_is_the_target() -> None:
    env = environment(release(1, A), release(2, B), release(3, A), release(4, C, "succeeded"))
    assert rollback_version(env, PLAN) == 3


def test_a_rollback_release_stands_for_the_release_it_restored() -> None:
    env = environment(
        release(1, A),
        release(2, B),
        release(3, A, cause="rollback", rollback_of=1),
        release(4, C, "succeeded"),
    )
    assert rollback_version(env, PLAN) == 1


def test_after_the_rollback_the_same_event_still_names_the_same_release() -> None:
    before = environment(release(1, A), release(2, B, "succeeded"))
    after = environment(
        release(1, A), release(2, B), release(3, A, "succeeded", cause="rollback", rollback_of=1)
    )
    assert rollback_version(before, PLAN) == rollback_version(after, PLAN) == 1


def test_digests_compare_without_regard_to_case() -> None:
    env = environment(release(1, A.upper().replace("SHA256", "sha256")), release(2, B, "succeeded"))
    assert rollback_version(env, PLAN) == 1


def test_releases_that_never_succeeded_are_not_targets() -> None:
    env = environment(release(1, A, "aborted"), release(2, B, "succeeded"))
    with pytest.raises(Conflict, match="nothing to roll back to") as refused:
        rollback_version(env, PLAN)
    assert refused.value.field == "subject.content.artifactId"


@pytest.mark.parametrize("env", [None, environment(release(1, A, "failed"))])
def test_an_environment_where_nothing_runs_has_nothing_to_roll_back(
    env: Environment | None,
) -> None:
    with pytest.raises(Conflict, match="nothing runs in checkout/staging"):
        rollback_version(env, PLAN)
