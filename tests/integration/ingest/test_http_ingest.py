"""POST /v1/cdevents: CDEvents from CI/CD tools become builds, deploys, rollbacks and config
changes, recorded as any write is (via ``cdevents``); a re-delivered event is answered with its
first result; what the ledger cannot take is refused and appends nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ...cdevents import ACCEPTED

D1 = "1f04c1cf8c648ef4a03c3da4077550b138fe05e0b2bd15a9b610730e57734fca"
D2 = "867d848fca6fc5b214b1a7d033720452b95b422764aecf313e828e19ca45ed2a"
COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"
CI = "/github-actions/acme/checkout"
ARGO = "/argocd/acme/checkout-staging"
Event = dict[str, Any]
Fixture = Callable[[str], Event]


async def tell_story(ledger: Any, cdevent: Fixture, modes: tuple[str, ...]) -> list[Any]:
    """Send the story's events, each in the next of ``modes``; their answers."""
    answers = []
    for n, name in enumerate(ACCEPTED):
        answers.append(await ledger.send(cdevent(name), modes[n % len(modes)]))
    return answers


@pytest.mark.parametrize(
    ("backend", "modes"),
    [
        pytest.param("sqlite", ("structured",), id="sqlite-structured"),
        pytest.param("sqlite", ("binary",), id="sqlite-binary"),
        pytest.param("sqlite", ("plain",), id="sqlite-plain"),
        pytest.param(
            "postgres",
            ("structured", "binary", "plain"),
            id="postgres-mixed",
            marks=pytest.mark.postgres,
        ),
    ],
)
async def test_a_delivery_told_in_cdevents_becomes_builds_and_releases(
    backend: str, modes: tuple[str, ...], start: Any, cdevent: Fixture, request: Any
) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    ledger = await start(url)
    built, published, deployed, upgraded, rolled_back, modified = await tell_story(
        ledger, cdevent, modes
    )

    assert built.status == 201, built
    assert built.json["command"] == "RecordBuild" and built.json["app"] == "checkout"
    assert (built.json["build"]["build_id"], built.json["build"]["commit"]) == (D1[:12], COMMIT)
    assert published.status == 201 and published.headers["idempotent-replayed"] == "true"
    assert published.json["build"] == built.json["build"]  # the first facts stand
    assert "recorded before with other facts" in published.json["note"]
    for answer in (deployed, upgraded, rolled_back):
        assert answer.status == 201, answer
        assert answer.json["position"] > 0 and answer.json["env"] == "staging"
    assert modified.status == 202 and modified.json["position"] == 0, modified

    releases = await ledger.releases("checkout", "staging")
    got = [(r["version"], r["build_id"], r["commit"], r["rollback_of"]) for r in releases]
    assert got == [(1, D1[:12], COMMIT, None), (2, D2[:12], D2[:12], None), (3, D1[:12], COMMIT, 1)]
    assert rolled_back.json["release"]["version"] == 3


async def test_history_says_cdevents_and_who_sent_them(ledger: Any, cdevent: Fixture) -> None:
    await tell_story(ledger, cdevent, ("plain",))
    items = await ledger.history(app="checkout")
    assert [i["kind"] for i in reversed(items)] == [
        "app",
        "build",
        "deploy",
        "build",
        "deploy",
        "rollback",
    ]
    assert {i["via"] for i in items} == {"cdevents"}
    by_kind = {i["kind"]: i for i in items}
    assert (by_kind["app"]["actor"], by_kind["deploy"]["actor"]) == (CI, ARGO)
    assert by_kind["deploy"]["actor_kind"] == "ci"  # open mode, no X-Ledger-Actor: the source
    assert by_kind["rollback"]["reason"] == f"rolled back by {ARGO}"


async def test_the_actor_is_the_tokens_principal(ledger: Any, cdevent: Fixture) -> None:
    root = await ledger.bearer("root", "system", "admin")
    argo = await ledger.bearer("argo", "ci", "admin")
    ledger.headers = {"Authorization": f"Bearer {root}"}
    answer = await ledger.send(
        cdevent("service_deployed"), "binary", {"Authorization": f"Bearer {argo}"}
    )
    assert answer.status == 201, answer
    deploy = (await ledger.history(kind="deploy"))[0]
    assert (deploy["actor"], deploy["actor_kind"], deploy["via"]) == ("argo", "ci", "cdevents")


async def test_scopes_are_checked_before_any_step_is_taken(ledger: Any, cdevent: Fixture) -> None:
    root = await ledger.bearer("root", "system", "admin")
    argo = await ledger.bearer("argo", "ci", "build:write,deploy")
    ledger.headers = {"Authorization": f"Bearer {root}"}
    event = cdevent("service_deployed")

    refused = await ledger.send(event, "plain", {"Authorization": f"Bearer {argo}"})
    assert "'admin' scope" in refused.problem(403)["detail"]
    assert [i["kind"] for i in await ledger.history()] == ["denied"]  # and nothing else

    await ledger.write("/v1/apps", {"name": "checkout"})
    answer = await ledger.send(event, "plain", {"Authorization": f"Bearer {argo}"})
    assert answer.status == 201, answer
    assert answer.json["release"]["version"] == 1


@pytest.mark.parametrize("mode", ["structured", "binary", "plain"])
async def test_a_redelivered_event_gets_its_first_answer_and_appends_nothing(
    mode: str, ledger: Any, cdevent: Fixture
) -> None:
    first = await tell_story(ledger, cdevent, ("plain",))
    head = await ledger.head()
    again = [await ledger.send(cdevent(name), mode) for name in ACCEPTED]
    for before, after in zip(first, again, strict=True):
        assert after.status == before.status, (before, after)
        assert {**after.json, "replayed": None} == {**before.json, "replayed": None}
        if before.status == 201:
            assert after.headers["idempotent-replayed"] == "true"
    assert await ledger.head() == head
    assert await ledger.history(after=head) == []


async def test_a_deploy_refused_after_its_build_was_recorded_completes_when_sent_again(
    ledger: Any, cdevent: Fixture
) -> None:
    await ledger.write("/v1/apps", {"name": "checkout"})
    await ledger.write(
        "/v1/apps/checkout/builds",
        {
            "build_id": "b0",
            "commit": "abc1234",
            "artifact": {"digest": "sha256:" + "0" * 64},
            "status": "succeeded",
        },
    )
    canary = {"build_id": "b0", "strategy": "canary", "steps": [10, 100]}
    await ledger.write("/v1/apps/checkout/envs/staging/deploys", canary)
    event = cdevent("service_deployed")

    refused = await ledger.send(event)
    assert "rolling out" in refused.problem(409)["detail"]
    builds = [i["data"].get("build_id") for i in await ledger.history(kind="build")]
    assert D1[:12] in builds  # the build is a fact whatever became of the deploy

    await ledger.write("/v1/apps/checkout/envs/staging/releases/1/rollout", {"status": "completed"})
    answer = await ledger.send(event)
    assert answer.status == 201, answer
    assert (answer.json["release"]["version"], answer.json["release"]["build_id"]) == (2, D1[:12])


async def test_environment_modified_with_config_in_custom_data_makes_a_release(
    ledger: Any, cdevent: Fixture
) -> None:
    event = cdevent("environment_modified")
    event["customData"] = {"app": "checkout", "config": {"set": {"PAYMENT_TIMEOUT": "30"}}}
    answer = await ledger.send(event, "structured")
    assert answer.status == 201, answer
    assert (answer.json["command"], answer.json["release"]["config_version"]) == ("ChangeConfig", 1)
    state = await ledger.read("/v1/apps/checkout/envs/staging", min_position=await ledger.head())
    assert state["config"] == {"PAYMENT_TIMEOUT": "30"}


@pytest.mark.parametrize("mode", ["structured", "binary", "plain"])
@pytest.mark.parametrize(
    "cd_type", ["com.acme.deployment.done", "dev.cdevents.service.deployed.1.0.0"]
)
async def test_an_unknown_type_is_refused_naming_it(
    cd_type: str, mode: str, ledger: Any, cdevent: Fixture
) -> None:
    event = cdevent("service_deployed")
    event["context"]["type"] = cd_type
    answer = await ledger.send(event, mode)
    problem = answer.problem(422)
    assert cd_type in problem["detail"]
    assert problem["errors"][0]["field"] == "type"
    assert await ledger.head() == 0


@pytest.mark.parametrize(
    "malformed",
    [
        lambda e: ({"Content-Type": "application/json"}, b'{"context": '),
        lambda e: ({"Content-Type": "application/cloudevents+json"}, b'["not", "an", "event"]'),
        lambda e: ({"Content-Type": "application/json"}, b'{"context": {"id": "1"}}'),
        lambda e: (
            {
                "ce-specversion": "1.0",
                "ce-id": e["context"]["id"],
                "ce-source": "/other",
                "ce-type": e["context"]["type"],
                "Content-Type": "application/json",
            },
            json.dumps(e).encode(),
        ),
    ],
    ids=["truncated-json", "not-an-object", "context-without-fields", "source-contradicts"],
)
async def test_a_malformed_event_is_400_and_appends_nothing(
    malformed: Callable[[Event], tuple[dict[str, str], bytes]], ledger: Any, cdevent: Fixture
) -> None:
    headers, body = malformed(cdevent("service_deployed"))
    answer = await ledger.post("/v1/cdevents", body, headers)
    answer.problem(400)
    assert await ledger.head() == 0


async def test_an_app_name_that_does_not_fit_is_422_naming_the_field(
    ledger: Any, cdevent: Fixture
) -> None:
    event = cdevent("service_deployed")
    event["subject"]["content"]["artifactId"] = f"pkg:oci/-checkout@sha256%3A{D1}"
    problem = (await ledger.send(event)).problem(422)
    assert problem["errors"][0]["field"] == "subject.content.artifactId"
    assert await ledger.head() == 0


async def test_the_route_is_in_the_openapi_document(ledger: Any) -> None:
    document = await ledger.read("/openapi.json")
    operation = document["paths"]["/v1/cdevents"]["post"]
    assert "201" in operation["responses"]
