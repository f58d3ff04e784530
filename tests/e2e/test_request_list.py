"""GET /v1/requests over HTTP, on each backend: change requests newest first, each as
GET /v1/requests/{id} shows it, with their approvals as they come and how they ended, filtered
by status, app and environment; a request nobody approved in time reads as expired at once, and
the worker's sweep records its expiry in the history."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api, LedgerServer, running_on

pytestmark = pytest.mark.e2e

CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
ALICE = {"X-Ledger-Actor": "alice"}
BOB = {"X-Ledger-Actor": "bob"}
WAIT_SECONDS = 30.0  # how long the expiry tests wait at most: the sweep runs every 0.2s


def two_eyes(api: Api, app: str, envs: tuple[str, ...] = ("staging",)) -> None:
    """``app`` with builds b1 and b2, whose changes in ``envs`` wait for two approvals."""
    api.write("POST", "/v1/apps", {"name": app})
    for n, build_id in enumerate(("b1", "b2")):
        digest = f"sha256:{app.encode().hex():0<63}{n}"
        build = {"build_id": build_id, "commit": f"{n:0>40}", "artifact": {"digest": digest}}
        api.write("POST", f"/v1/apps/{app}/builds", build | {"status": "succeeded"}, headers=CI)
    policy = {"reason": "two eyes", "policy": {"approvals": {"required": 2}}}
    for env in envs:
        api.write("PUT", f"/v1/apps/{app}/envs/{env}/policy", policy, headers=ALICE)


def request_deploy(api: Api, app: str, build_id: str, env: str = "staging") -> dict[str, Any]:
    """A deploy that waits for approvals: 202 and the request."""
    answer = api.request(
        "POST", f"/v1/apps/{app}/envs/{env}/deploys", {"build_id": build_id}, headers=CI
    )
    assert answer.status == 202, api.explain(answer)
    request: dict[str, Any] = answer.json["request"]
    assert request["status"] == "pending"
    return request


def requests(api: Api, **query: object) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.read("/v1/requests", **query)["items"]
    return items


def step(api: Api, request_id: str, verb: str, headers: dict[str, str], **body: str) -> Any:
    return api.write("POST", f"/v1/requests/{request_id}/{verb}", body, headers=headers)


def test_a_request_is_listed_as_read_alone_from_pending_to_released(api: Api) -> None:
    two_eyes(api, "shop")
    made = request_deploy(api, "shop", "b1")
    [listed] = requests(api, app="shop")
    assert listed == made == api.read(f"/v1/requests/{made['id']}")
    assert listed["waiting_for"] == {"approvals": 2} and "approvals" not in listed  # none yet
    step(api, made["id"], "approve", ALICE, reason="looks fine")
    [listed] = requests(api, app="shop")
    assert listed == api.read(f"/v1/requests/{made['id']}")
    assert listed["waiting_for"] == {"approvals": 1}
    assert [(a["actor"], a["reason"]) for a in listed["approvals"]] == [("alice", "looks fine")]
    released = step(api, made["id"], "approve", BOB)["release"]
    [listed] = requests(api, app="shop", status="released")
    assert listed == api.read(f"/v1/requests/{made['id']}")
    assert listed["release_version"] == released["version"] and listed["ended_by"] == "bob"
    assert len(listed["approvals"]) == 2 and listed["waiting_for"] == {"approvals": 0}


def test_requests_are_listed_newest_first_by_status_app_and_env(api: Api) -> None:
    two_eyes(api, "cart", envs=("staging", "qa"))
    rejected = request_deploy(api, "cart", "b1")["id"]
    pending = request_deploy(api, "cart", "b2")["id"]
    in_qa = request_deploy(api, "cart", "b1", env="qa")["id"]
    step(api, rejected, "reject", ALICE, reason="not on a Friday")

    def ids(**query: object) -> list[str]:
        return [item["id"] for item in requests(api, app="cart", **query)]

    assert ids() == [in_qa, pending, rejected]
    assert ids(status="pending") == [in_qa, pending]
    assert ids(status="pending", env="staging") == [pending]
    assert ids(env="qa") == [in_qa]
    assert ids(limit=1) == [in_qa]
    assert ids(status="rejected") == [rejected]
    assert ids(status="expired") == ids(status="released") == []
    [ended] = requests(api, app="cart", status="rejected")
    assert (ended["ended_by"], ended["detail"]) == ("alice", "not on a Friday")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "approved"),
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "ten"),
        ("app", "no way"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(api: Api, field: str, value: str) -> None:
    api.get("/v1/requests", **{field: value}).problem(422, field)


@pytest.fixture(scope="module")
def hasty_server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LedgerServer]:
    """A server whose change requests expire a second after they are made, swept often."""
    workdir: Path = tmp_path_factory.mktemp(f"requests-{backend}")
    settings = {"LEDGER_REQUEST_TTL": "1", "LEDGER_REQUEST_SWEEP_SECONDS": "0.2"}
    with running_on(backend, request, workdir, **settings) as server:
        yield server


def eventually(check: Any) -> Any:
    """The first true answer of ``check()``, asked again until it gives one."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (answer := check()):
        assert time.monotonic() < deadline, "still false"
        time.sleep(0.1)
    return answer


def test_a_request_nobody_approved_in_time_expires(hasty_server: LedgerServer) -> None:
    api = hasty_server.api()
    two_eyes(api, "shop")
    made = request_deploy(api, "shop", "b1")
    [expired] = eventually(lambda: requests(api, status="expired"))
    assert expired["id"] == made["id"] and expired["waiting_for"] == {"approvals": 0}
    assert requests(api, status="pending") == []

    def recorded() -> list[dict[str, Any]]:
        history = api.history(app="shop", kind="request")
        return [
            i for i in history if i["data"]["request_id"] == made["id"] and i["actor"] == "ledger"
        ]

    [item] = eventually(recorded)
    assert item["actor_kind"] == "system" and "expired unapproved" in item["summary"]
    [listed] = requests(api, status="expired")
    assert listed == api.read(f"/v1/requests/{made['id']}")
    assert listed["ended_by"] == "ledger"
