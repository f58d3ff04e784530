"""GET …/gates (what `ledger assert` asks) agrees with what the ledger then does: for the same
principal and change, its reasons are the gates the real request right after runs into."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .places import Outcome, Place

pytestmark = pytest.mark.e2e

ALWAYS = {"name": "always", "cron": "* * * * *", "duration": "1h"}
STATUS_OF_GATE = {"freeze": 423, "evidence": 409, "approval": 202, "promotion": 403}


@dataclass(frozen=True)
class Scenario:
    """A policy set before the assessment, and the gates it should name, in order."""

    name: str
    policy: dict[str, Any]
    gates: list[str]


SCENARIOS = [
    Scenario("allowed", {}, []),
    Scenario("frozen", {"freeze": [ALWAYS]}, ["freeze"]),
    Scenario("missing-evidence", {"required_evidence": ["scan"]}, ["evidence"]),
    Scenario("needs-approval", {"approvals": {"required": 2}}, ["approval"]),
    Scenario("promotion-path", {"promotion_from": "staging"}, ["promotion"]),
    Scenario(
        "frozen-and-missing-evidence",
        {"freeze": [ALWAYS], "required_evidence": ["scan"]},
        ["freeze", "evidence"],
    ),
]


def agrees(assessment: dict[str, Any], outcome: Outcome, expected: list[str]) -> None:
    """The assessment names the expected gates, and the request met the first of them."""
    gates = [reason["gate"] for reason in assessment["reasons"]]
    assert gates == expected, assessment
    assert assessment["allowed"] is (gates == []), assessment
    if not gates:
        outcome.released()
    elif gates[0] == "approval":
        outcome.waiting()
    else:
        problem = outcome.refused(STATUS_OF_GATE[gates[0]], gates[0])
        assert problem["policy"] == assessment["reasons"][0]["policy"], (assessment, problem)


def scenarios() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])


@scenarios()
def test_the_assessment_of_a_deploy_agrees_with_the_deploy_right_after(
    place: Place, scenario: Scenario
) -> None:
    build = place.build()
    if scenario.policy:
        place.policy(**scenario.policy)

    assessment = place.assessment(build=build)
    outcome = Outcome.of(place.deploy(build))

    assert (assessment["action"], assessment["build_id"]) == ("deploy", build), assessment
    agrees(assessment, outcome, scenario.gates)


PROMOTIONS = [s for s in SCENARIOS if s.name != "promotion-path"]


@pytest.mark.parametrize("scenario", PROMOTIONS, ids=[s.name for s in PROMOTIONS])
def test_the_assessment_of_a_promotion_agrees_with_the_promotion_right_after(
    place: Place, scenario: Scenario
) -> None:
    build = place.build()
    place.released(build, "staging")
    if scenario.policy:
        place.policy(**scenario.policy)

    assessment = place.assessment(from_env="staging")
    outcome = Outcome.of(place.promote("staging"))

    assert (assessment["action"], assessment["build_id"]) == ("promote", build), assessment
    agrees(assessment, outcome, scenario.gates)


ACTIONS: dict[str, Callable[[Place], Any]] = {
    "config": lambda place: place.configure(),
    "rollback": lambda place: place.rollback(),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    ("policy", "gates"),
    [
        ({"freeze": [ALWAYS]}, {"config": ["freeze"], "rollback": []}),
        ({"approvals": {"required": 1}}, {"config": ["approval"], "rollback": ["approval"]}),
        (
            {"approvals": {"required": 1}, "rollback_needs_approval": False},
            {"config": ["approval"], "rollback": []},
        ),
    ],
    ids=["frozen", "needs-approval", "rollback-exempt"],
)
def test_the_assessment_of_a_config_change_or_rollback_agrees_with_the_change_right_after(
    place: Place, action: str, policy: dict[str, Any], gates: dict[str, list[str]]
) -> None:
    place.released(place.build("b1"))
    place.released(place.build("b2"))
    place.policy(**policy)

    assessment = place.assessment(action=action)
    outcome = Outcome.of(ACTIONS[action](place))

    assert assessment["action"] == action, assessment
    agrees(assessment, outcome, gates[action])
