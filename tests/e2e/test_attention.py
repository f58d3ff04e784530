"""GET /v1/attention against a real `ledger serve` on SQLite: what needs someone now, in one
read — a drifted environment until it runs its release again, a pending change request until it
is approved, an environment inside a freeze window (an app's own or every app's) with its end,
a failing webhook without where it sends, a connector sent a forged delivery — narrowed by
?app= and ?env=, refusing a bad filter, and readable with the read scope alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import Api, running
from .gates.secured import store_of, tokens

pytestmark = pytest.mark.e2e

CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
ALICE = {"X-Ledger-Actor": "alice"}
REPORTER = {"X-Ledger-Actor": "k8s-reporter", "X-Ledger-Actor-Kind": "system"}
UNRECORDED = "sha256:" + "e" * 64
LISTS = ("drift", "requests", "frozen", "webhooks", "connectors", "followers")
WAIT_SECONDS = 15.0


@pytest.fixture(scope="module")
def backend() -> str:
    """One store is enough: the answer is read the same way from either."""
    return "sqlite"


def attention(api: Api, **query: object) -> dict[str, Any]:
    answer: dict[str, Any] = api.read("/v1/attention", **query)
    assert answer["position"] >= api.last_position
    assert {k: len(answer[k]) for k in LISTS if k != "requests"} == {
        k: answer["counts"][k] for k in LISTS if k != "requests"
    }
    assert answer["counts"]["total"] == sum(answer["counts"][k] for k in LISTS)
    return answer


def digest(build: str) -> str:
    return "sha256:" + (build.encode().hex() + "a" * 64)[:64]


def app_with_builds(api: Api, app: str, *builds: str) -> None:
    api.write("POST", "/v1/apps", {"name": app})
    for bid in builds:
        body = {"build_id": bid, "commit": f"{bid:0>40}", "artifact": {"digest": digest(bid)}}
        api.write("POST", f"/v1/apps/{app}/builds", body | {"status": "succeeded"}, headers=CI)


def report(api: Api, app: str, *digests: str) -> None:
    instances = [{"id": f"{app}-{n}", "artifact_digest": d} for n, d in enumerate(digests)]
    body = {
        "reporter": "k8s:prod",
        "env": "prod",
        "workloads": [{"app": app, "instances": instances}],
    }
    answer = api.request("POST", "/v1/runtime/reports", body, headers=REPORTER)
    assert answer.status in (200, 201), api.explain(answer)
    api._advance(answer)


def policy(api: Api, app: str, env: str, **gates: object) -> None:
    body = {"reason": "test", "policy": gates}
    api.write("PUT", f"/v1/apps/{app}/envs/{env}/policy", body, headers=ALICE)


def request_deploy(api: Api, app: str, build_id: str, env: str = "staging") -> dict[str, Any]:
    path = f"/v1/apps/{app}/envs/{env}/deploys"
    answer = api.request("POST", path, {"build_id": build_id}, headers=CI)
    assert answer.status == 202, api.explain(answer)
    return answer.json["request"]  # type: ignore[no-any-return]


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def window(name: str, starts_in: timedelta, lasts: timedelta, **more: str) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + starts_in
    return {"name": name, "start": rfc3339(start), "end": rfc3339(start + lasts), **more}


def test_a_drifted_environment_needs_someone_until_it_runs_its_release_again(api: Api) -> None:
    app_with_builds(api, "drifty", "b1")
    api.write("POST", "/v1/apps/drifty/envs/prod/deploys", {"build_id": "b1"}, headers=CI)
    report(api, "drifty", digest("b1"))
    assert attention(api, app="drifty")["drift"] == []

    report(api, "drifty", digest("b1"), UNRECORDED)
    answer = attention(api, app="drifty")
    [drifted] = answer["drift"]
    assert (drifted["app"], drifted["env"], drifted["status"]) == ("drifty", "prod", "drifted")
    assert drifted["summary"] == "1 unrecorded artifact" and drifted["since"]
    assert drifted["unrecorded_artifacts"] == [UNRECORDED] and drifted["expected_version"] == 1
    assert answer["counts"]["drift"] == 1

    report(api, "drifty", digest("b1"))
    assert attention(api, app="drifty")["drift"] == []


def test_pending_requests_need_someone_oldest_first_until_approved(api: Api) -> None:
    app_with_builds(api, "gated", "b1", "b2")
    policy(api, "gated", "staging", approvals={"required": 1})
    first, second = request_deploy(api, "gated", "b1"), request_deploy(api, "gated", "b2")
    listed = api.read("/v1/requests", app="gated", status="pending")["items"]

    answer = attention(api, app="gated")
    assert answer["requests"] == listed[::-1]  # as GET /v1/requests shows them, oldest first
    assert [r["id"] for r in answer["requests"]] == [first["id"], second["id"]]
    assert answer["counts"]["requests"] == 2

    api.write("POST", f"/v1/requests/{first['id']}/approve", {}, headers=ALICE)
    answer = attention(api, app="gated")
    assert [r["id"] for r in answer["requests"]] == [second["id"]]
    assert answer["counts"]["requests"] == 1


def test_environments_in_a_freeze_window_now_need_someone_with_its_end(api: Api) -> None:
    api.write("POST", "/v1/apps", {"name": "icy"})
    for env in ("ice-age", "prod", "qa"):  # an environment is known once it has an event
        api.write("POST", f"/v1/apps/icy/envs/{env}/config", {"set": {"K": "v"}})
    party = window("party", -timedelta(minutes=5), timedelta(hours=2), reason="the launch")
    policy(api, "icy", "prod", freeze=[party])
    policy(api, "icy", "qa", freeze=[window("next-week", timedelta(days=7), timedelta(days=1))])
    policy(api, "*", "ice-age", freeze=[{"name": "always", "cron": "* * * * *", "duration": "1h"}])

    frozen = attention(api, app="icy")["frozen"]

    assert [(f["env"], f["window"]) for f in frozen] == [("ice-age", "always"), ("prod", "party")]
    every_app, own = frozen
    assert every_app["policy"] == "*/ice-age v1" and every_app["end"] > rfc3339(datetime.now(UTC))
    assert (own["start"], own["end"], own["reason"]) == (party["start"], party["end"], "the launch")
    assert own["policy"] == "icy/prod v1"


def test_a_failing_webhook_needs_someone_without_showing_where_it_sends(
    api: Api, unused_url: str
) -> None:
    api.write("POST", "/v1/apps", {"name": "hooked"})
    url = f"{unused_url}/services/T0/B0/secret-path"
    new = {"url": url, "format": "slack", "filter": {"app": "hooked"}}
    created = api.write("POST", "/v1/webhooks", new)
    try:
        api.write("PUT", "/v1/apps/hooked/envs/prod/flags/dark-mode", {"enabled": True})
        deadline = time.monotonic() + WAIT_SECONDS
        while not (hooks := attention(api, app="hooked")["webhooks"]):
            assert time.monotonic() < deadline, "the webhook never showed as failing"
            time.sleep(0.1)
        answer = api.get("/v1/attention", app="hooked")
    finally:
        assert api.request("DELETE", f"/v1/webhooks/{created['id']}").status == 204
    [hook] = hooks
    assert (hook["id"], hook["state"], hook["app"]) == (created["id"], "failing", "hooked")
    assert hook["last_error"] == "ClientConnectorError" and hook["lag"] >= 1
    port = unused_url.rsplit(":", 1)[1]
    for secret in (port, "secret-path", "127.0.0.1", created["secret"]):
        assert secret.encode() not in answer.body, answer
    assert attention(api, app="drifty")["webhooks"] == []  # it carries hooked's changes alone


def test_a_connector_sent_a_forged_delivery_needs_someone(api: Api) -> None:
    secret = "the-secret-of-the-forged-connector"
    new = {"kind": "github", "name": "gh-forged", "secret": secret, "mapping": {"app": "forged"}}
    assert api.request("POST", "/v1/connectors", new).status == 201
    forged = api.request(
        "POST", "/v1/connectors/gh-forged/events", raw=b"{}",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "ping",
                 "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": "sha256=" + "0" * 64},
    )  # fmt: skip
    forged.problem(401)

    answer = api.get("/v1/attention", app="forged")
    [connector] = answer.json["connectors"]
    assert (connector["name"], connector["kind"], connector["failures"]) == (
        "gh-forged",
        "github",
        1,
    )
    assert connector["last_failure"] == connector["last_delivery"] == "rejected"
    assert "X-Hub-Signature-256" in connector["last_reason"]
    assert secret.encode() not in answer.body
    assert attention(api, app="drifty")["connectors"] == []  # it maps to the app forged alone


def test_app_and_env_narrow_what_concerns_them(api: Api) -> None:
    app_with_builds(api, "narrow-a", "b1")
    policy(api, "narrow-a", "staging", approvals={"required": 1})
    request_deploy(api, "narrow-a", "b1")
    api.write("POST", "/v1/apps", {"name": "narrow-b"})
    api.write("POST", "/v1/apps/narrow-b/envs/prod/config", {"set": {"K": "v"}})
    policy(
        api, "narrow-b", "prod", freeze=[window("now", -timedelta(minutes=1), timedelta(hours=1))]
    )

    def places(kind: str, **query: str) -> set[tuple[str, str]]:
        return {(i["app"], i["env"]) for i in attention(api, **query)[kind]}

    assert places("requests", app="narrow-a") == {("narrow-a", "staging")}
    assert places("frozen", app="narrow-a") == set()
    assert places("frozen", app="narrow-b") == {("narrow-b", "prod")}
    assert places("requests", app="narrow-b") == set()
    assert ("narrow-a", "staging") in places("requests", env="staging")
    assert {env for _, env in places("requests", env="staging")} == {"staging"}
    assert places("frozen", app="narrow-b", env="qa") == set()
    everything = attention(api)
    assert {("narrow-a", "staging"), ("narrow-b", "prod")} <= {
        (i["app"], i["env"]) for i in everything["requests"] + everything["frozen"]
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("app", "No Way"), ("env", "prod!"), ("min_position", "soon"), ("consistency", "strong")],
)
def test_a_bad_filter_is_a_422_naming_it(api: Api, field: str, value: str) -> None:
    api.get("/v1/attention", **{field: value}).problem(422, field)


@pytest.fixture(scope="module")
def secured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, dict[str, dict[str, str]]]]:
    """A ledger with tokens: a reader (read scope) and a pipeline (build:write alone)."""
    workdir = tmp_path_factory.mktemp("attention-tokens")
    with store_of("sqlite", request, workdir) as env:
        made = tokens(env, reader=("human", "read"), pipeline=("ci", "build:write"))
        with running(env, workdir) as server:
            yield server.api(), made


def test_the_read_scope_reads_it_and_a_token_without_it_is_refused(
    secured: tuple[Api, dict[str, dict[str, str]]],
) -> None:
    api, principals = secured
    answer = api.request("GET", "/v1/attention", headers=principals["reader"])
    assert answer.status == 200 and answer.json["counts"]["total"] == 0, answer
    assert (
        "read"
        in api.request("GET", "/v1/attention", headers=principals["pipeline"]).problem(403)[
            "detail"
        ]
    )
    api.get("/v1/attention").problem(401)
