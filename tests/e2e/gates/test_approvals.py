"""Change requests and their approvals over HTTP: distinct principals approve, each once; the
last approval makes exactly the change that was asked for, as the ledger stands then."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from ..conftest import Api
from .places import ALICE, BOB, CAROL, Outcome, Place, actor, requested

pytestmark = pytest.mark.e2e

ALWAYS = {"name": "always", "cron": "* * * * *", "duration": "1h"}


def test_two_distinct_approvals_release_exactly_the_requested_deploy(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 2})
    request = requested(place.deploy(build, ALICE, description="checkout v2"))

    first = place.approve(request, BOB, reason="looks good")
    assert first.status == 201 and "release" not in first.json, first
    assert first.json["request"]["waiting_for"] == {"approvals": 1}, first
    assert place.version() == 0

    release = Outcome.of(place.approve(request, CAROL)).released()
    assert (release["version"], release["build_id"], release["actor"]) == (1, build, "alice")
    assert release["description"] == "checkout v2"
    view = place.request(request)
    assert (view["status"], view["release_version"], view["ended_by"]) == ("released", 1, "carol")
    assert [(a["actor"], a["reason"]) for a in view["approvals"]] == [
        ("bob", "looks good"),
        ("carol", None),
    ]
    assert place.current() == release
    assert release["gates"]["approved_by"] == ["bob", "carol"], release
    assert release["gates"]["request_id"] == request, release


def test_the_history_tells_the_request_its_approvals_and_the_release(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 2})
    request = requested(place.deploy(build, ALICE))
    place.approve(request, BOB)
    place.approve(request, CAROL)

    told = [(i["kind"], i["actor"], i["summary"]) for i in reversed(place.history())]

    assert [(kind, who) for kind, who, _ in told] == [
        ("policy", "anonymous"),
        ("request", "alice"),
        ("request", "bob"),
        ("request", "carol"),
        ("deploy", "alice"),
        ("request", "carol"),
    ], told
    summaries = [summary for _, _, summary in told]
    assert "requested a deploy" in summaries[1] and request[:8] in summaries[1]
    assert "approved request" in summaries[2] and "approved request" in summaries[3]
    assert "approved by bob, carol" in summaries[4]
    assert "approved and released as v1" in summaries[5]


def test_the_requester_may_not_approve_their_own_change(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 1})
    request = requested(place.deploy(build, ALICE))

    Outcome.of(place.approve(request, ALICE)).refused(403, "approval")

    denied = place.denied()
    assert (denied["actor"], denied["data"]["gate"]) == ("alice", "approval"), denied
    view = place.request(request)
    assert (view["status"], view.get("approvals", [])) == ("pending", [])
    assert place.version() == 0


def test_allow_self_lets_the_requester_approve_their_own_change(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 1, "allow_self": True})
    request = requested(place.deploy(build, ALICE))

    release = Outcome.of(place.approve(request, ALICE)).released()

    assert release["actor"] == "alice", release
    assert release["gates"]["approved_by"] == ["alice"], release


def test_a_second_approval_by_the_same_principal_counts_once(place: Place, api: Api) -> None:
    build = place.build()
    place.policy(approvals={"required": 2})
    request = requested(place.deploy(build, ALICE))
    assert place.approve(request, BOB).status == 201

    again = place.approve(request, BOB)

    assert (again.status, again.json["position"]) == (200, 0), again
    assert again.json["request"]["waiting_for"] == {"approvals": 1}, again
    api.assert_nothing_appended()
    assert [a["actor"] for a in place.request(request)["approvals"]] == ["bob"]


async def test_approvals_racing_each_other_make_one_release(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 1})
    request = requested(place.deploy(build, ALICE))
    approvers = [actor(f"approver-{n}") for n in range(6)]

    async with aiohttp.ClientSession(place.api.url) as session:
        answers = await asyncio.gather(*(approve(session, request, a) for a in approvers))

    made = [body for status, body in answers if status == 201]
    assert len(made) == 1 and made[0]["release"]["version"] == 1, answers
    assert sorted(status for status, _ in answers) == [201] + [409] * 5, answers
    assert place.version() == 1
    assert len(place.history(kind="deploy")) == 1
    view = place.request(request)
    assert view["status"] == "released" and len(view["approvals"]) == 1, view


async def approve(
    session: aiohttp.ClientSession, request: str, by: dict[str, str]
) -> tuple[int, Any]:
    async with session.post(f"/v1/requests/{request}/approve", json={}, headers=by) as answer:
        return answer.status, await answer.json(content_type=None)


def test_a_request_superseded_by_a_newer_release_fails_when_approved(place: Place) -> None:
    old, new = place.build("b1"), place.build("b2")
    place.policy(approvals={"required": 1})
    request = requested(place.deploy(old, ALICE))
    place.policy(approvals=None)
    place.released(new)

    problem = place.approve(request, BOB).problem(409)

    assert "failed" in problem["detail"] and "superseded" in problem["detail"], problem
    view = place.request(request)
    assert view["status"] == "failed" and "superseded" in view["detail"], view
    current = place.current()
    assert current and (current["version"], current["build_id"]) == (1, new), current
    assert "was approved but failed" in place.history(kind="request")[0]["summary"]


def test_an_approved_request_fails_when_the_environment_froze_meanwhile(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 1})
    request = requested(place.deploy(build, ALICE))
    place.policy(approvals={"required": 1}, freeze=[ALWAYS])

    problem = place.approve(request, BOB).problem(409)

    assert "frozen" in problem["detail"], problem
    view = place.request(request)
    assert view["status"] == "failed" and "frozen" in view["detail"], view
    assert place.version() == 0


def test_a_rejected_request_can_no_longer_be_approved(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 1})
    request = requested(place.deploy(build, ALICE))
    reject = f"/v1/requests/{request}/reject"
    assert place.send("POST", reject, {}, BOB).status == 422  # a rejection says why
    assert place.send("POST", reject, {"reason": "not this week"}, BOB).status == 201

    place.approve(request, CAROL).problem(409)

    view = place.request(request)
    assert (view["status"], view["detail"]) == ("rejected", "not this week"), view
    assert view["ended_by"] == "bob"
    assert place.version() == 0
