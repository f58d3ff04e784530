"""Evidence on builds: an environment that requires it takes only builds with a passed
attestation of each type (the newest of a type counts), and a build shows what it carries."""

from __future__ import annotations

import pytest

from ..conftest import Api
from .places import CI, Outcome, Place

pytestmark = pytest.mark.e2e


def test_a_build_without_the_required_evidence_is_refused_naming_what_is_missing(
    place: Place,
) -> None:
    build = place.build(tests="passed")
    place.policy(required_evidence=["tests", "scan"])

    problem = Outcome.of(place.deploy(build)).refused(409, "evidence")

    assert problem["missing"] == ["scan"], problem
    assert build in problem["detail"] and "scan" in problem["detail"]
    assert place.version() == 0


def test_a_build_whose_evidence_failed_is_refused(place: Place) -> None:
    build = place.build(tests="passed", scan="failed")
    place.policy(required_evidence=["tests", "scan"])

    problem = Outcome.of(place.deploy(build)).refused(409, "evidence")

    assert problem["missing"] == ["scan"] and "scan failed" in problem["detail"], problem


def test_a_build_with_every_required_evidence_passed_is_deployed(place: Place) -> None:
    build = place.build(tests="passed", scan="passed")
    place.policy(required_evidence=["tests", "scan"])

    release = Outcome.of(place.deploy(build)).released()

    assert release["build_id"] == build


def test_the_newest_attestation_of_a_type_counts(place: Place) -> None:
    fixed = place.build("fixed", tests="failed")
    place.evidence(fixed, "tests", "passed")
    broken = place.build("broken", tests="passed")
    place.evidence(broken, "tests", "failed")
    place.policy(required_evidence=["tests"])

    Outcome.of(place.deploy(broken)).refused(409, "evidence")
    Outcome.of(place.deploy(fixed)).released()


def test_required_evidence_does_not_hold_back_config_changes_or_rollbacks(place: Place) -> None:
    place.released(place.build("b1", tests="passed"))
    place.released(place.build("b2", tests="passed"))
    place.policy(required_evidence=["tests", "scan"])

    Outcome.of(place.configure()).released()
    rollback = Outcome.of(place.rollback(to_version=1)).released()

    assert rollback["rollback_of"] == 1


def test_a_build_shows_the_evidence_recorded_on_it(place: Place, api: Api) -> None:
    build = place.build(tests="failed")
    place.evidence(build, "tests", "passed")
    place.evidence(build, "scan", "passed")

    detail = api.read(f"/v1/apps/{place.app}/builds/{build}")

    assert (detail["app"], detail["build_id"], detail["status"]) == (place.app, build, "succeeded")
    shown = [(e["type"], e["status"], e["actor"]) for e in detail["evidence"]]
    assert shown == [
        ("tests", "failed", "ci-bot"),
        ("tests", "passed", "ci-bot"),
        ("scan", "passed", "ci-bot"),
    ], detail
    assert detail["evidence"][0]["url"] == f"https://ci.example/{build}/tests"
    assert [i["kind"] for i in api.history(app=place.app, kind="evidence")] == ["evidence"] * 3


def test_evidence_on_a_build_never_recorded_is_refused(place: Place, api: Api) -> None:
    body = {"type": "tests", "status": "passed"}
    path = f"/v1/apps/{place.app}/builds/nope/evidence"

    api.request("POST", path, body, headers=CI).problem(404)

    assert api.get(f"/v1/apps/{place.app}/builds/nope").status == 404
