"""Bad requests get a precise RFC 9457 problem, and leave no trace in the ledger.

Every case is sent to a real server; after each one, the history has nothing new.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SHOP = "/v1/apps/shop"
STAGING = f"{SHOP}/envs/staging"
ONE_MIB = 1024 * 1024


def build(build_id: str, status: str, **changes: Any) -> dict[str, Any]:
    return {
        "build_id": build_id,
        "commit": "0123abcd",
        "artifact": {"digest": f"sha256:{build_id:0<64}"},
        "status": status,
    } | changes


@pytest.fixture(scope="module")
def shop(api: Any) -> Any:
    """The app ``shop`` with a succeeded build ``ok`` running in staging and a failed ``bad``."""
    api.write("POST", "/v1/apps", {"name": "shop"})
    api.write("POST", f"{SHOP}/builds", build("ok", "succeeded"))
    api.write("POST", f"{SHOP}/builds", build("bad", "failed"))
    api.write("POST", f"{STAGING}/deploys", {"build_id": "ok"})
    return api


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", "/v1/apps", b'{"name": "shop"'),
        ("POST", f"{SHOP}/builds", b'{"build_id": "x", }'),
        ("PUT", f"{STAGING}/flags/beta", b"enabled=true"),
        ("POST", f"{STAGING}/deploys", b'{"build_id": "ok"} trailing'),
        ("POST", f"{STAGING}/config", b'{"set": {"A": "\xff"}}'),
    ],
    ids=["truncated", "trailing-comma", "form-encoded", "trailing-garbage", "not-utf8"],
)
def test_malformed_json_is_400(shop: Any, method: str, path: str, raw: bytes) -> None:
    shop.request(method, path, raw=raw).problem(400)
    shop.assert_nothing_appended()


WRONG_TYPES = [
    ("POST", "/v1/apps", {"name": 42}, "name"),
    ("POST", f"{SHOP}/builds", build("w1", "succeeded", commit=1234), "commit"),
    ("POST", f"{SHOP}/builds", build("w2", "succeeded", artifact={"digest": 5}), "artifact.digest"),
    ("POST", f"{SHOP}/builds", build("w3", "maybe"), "status"),
    ("POST", f"{STAGING}/config", {"set": {"A": 1}}, "set"),
    ("PUT", f"{STAGING}/flags/beta", {"enabled": "yes"}, "enabled"),
    ("PUT", f"{STAGING}/flags/beta", {"enabled": True, "rollout_percent": 101}, "rollout_percent"),
    ("POST", f"{STAGING}/deploys", {"build_id": ["ok"]}, "build_id"),
    ("POST", f"{STAGING}/deploys", {"build_id": "ok", "strategy": "yolo"}, "strategy"),
    ("POST", f"{STAGING}/releases/1/rollout", {"percent": "ten"}, "percent"),
    (
        "POST",
        f"{STAGING}/migrations",
        {"migration_id": "m1", "schema_version": "1", "reversible": "no"},
        "reversible",
    ),
    ("POST", f"{STAGING}/rollback", {"reason": "x", "to_version": "1"}, "to_version"),
    ("POST", f"{STAGING}/rollback", {"to_version": 1}, "reason"),
    ("POST", "/v1/apps", {}, "name"),
]


UNKNOWN_FIELDS = [
    ("POST", "/v1/apps", {"name": "x1", "colour": "red"}, "colour"),
    ("POST", f"{STAGING}/deploys", {"build_id": "ok", "buildid": "ok"}, "buildid"),
    ("POST", f"{STAGING}/deploys", {"build_id": "ok", "op": "deploy"}, "op"),  # a batch's only
    ("POST", f"{STAGING}/rollback", {"reason": "x", "op": "deploy"}, "op"),
    ("PUT", f"{STAGING}/flags/beta", {"enabled": True, "percent": 5}, "percent"),
    ("POST", f"{STAGING}/rollback", {"reason": "x", "to": 1}, "to"),
    ("POST", f"{STAGING}/config", {"set": {"A": "1"}, "secrets": ["A"]}, "secrets"),
    (
        "POST",
        f"{SHOP}/builds",
        build("u1", "succeeded", artifact={"digest": "sha256:" + "a" * 64, "size": 1}),
        "artifact.size",
    ),
    (
        "POST",
        f"{SHOP}/builds",
        build("u2", "succeeded", pipeline={"name": "ci", "run_id": "1", "job": "x"}),
        "pipeline.job",
    ),
]


BAD_NAMES = [
    ("POST", "/v1/apps", {"name": "Shop!"}, "name"),
    ("POST", "/v1/apps", {"name": "../etc"}, "name"),
    ("POST", "/v1/apps", {"name": ""}, "name"),
    ("POST", "/v1/apps", {"name": "x" * 64}, "name"),
    ("GET", "/v1/apps/Shop%21/envs/prod", None, "app"),
    ("GET", f"{SHOP}/envs/Prod%21", None, "env"),
    ("POST", f"{SHOP}/envs/Prod%21/config", {"set": {"A": "1"}}, "env"),
    ("POST", "/v1/apps/Shop%21/builds", build("n1", "succeeded"), "app"),
    ("PUT", f"{STAGING}/flags/bad%20flag", {"enabled": True}, "flag"),
    ("POST", f"{STAGING}/deploys", {"build_id": "../etc"}, "build_id"),
    ("POST", f"{SHOP}/builds", build("../etc", "succeeded"), "build_id"),
    ("POST", f"{STAGING}/config", {"set": {"BAD KEY": "x"}}, "set"),
    ("POST", f"{STAGING}/promote", {"from_env": "../etc"}, "from_env"),
]
BAD_QUERIES = [  # an integer of the query must be one: empty is no default, as documented
    ("GET", "/v1/history?limit=", None, "limit"),
    ("GET", "/v1/history?limit=ten", None, "limit"),
    ("GET", f"{STAGING}/dora?days=", None, "days"),
    ("GET", "/v1/dora?until=0001-01-01T00:00:00Z", None, "until"),  # would begin before year 1
    ("GET", f"{STAGING}?min_position=-1", None, "min_position"),
    ("GET", "/v1/apps?consistency=", None, "consistency"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"), [*WRONG_TYPES, *UNKNOWN_FIELDS, *BAD_NAMES, *BAD_QUERIES]
)
def test_a_field_of_the_wrong_type_unknown_or_badly_named_is_422_naming_it(
    shop: Any, method: str, path: str, body: object, field: str
) -> None:
    shop.request(method, path, body).problem(422, field)
    shop.assert_nothing_appended()


def test_an_unknown_actor_kind_is_422(shop: Any) -> None:
    headers = {"X-Ledger-Actor": "robot", "X-Ledger-Actor-Kind": "robot"}
    answer = shop.request("PUT", f"{STAGING}/flags/beta", {"enabled": True}, headers=headers)
    answer.problem(422, "X-Ledger-Actor-Kind")
    shop.assert_nothing_appended()


NOT_FOUND = [
    ("GET", "/v1/apps/ghost", None),
    ("GET", "/v1/apps/ghost/envs/prod", None),
    ("GET", f"{SHOP}/envs/nowhere", None),
    ("GET", f"{SHOP}/envs/nowhere/releases", None),
    ("GET", f"{STAGING}/releases/99", None),
    ("POST", "/v1/apps/ghost/builds", build("g1", "succeeded")),
    ("POST", "/v1/apps/ghost/envs/prod/config", {"set": {"A": "1"}}),
    ("POST", "/v1/apps/ghost/envs/prod/deploys", {"build_id": "ok"}),
    ("POST", f"{STAGING}/deploys", {"build_id": "never-built"}),
    ("POST", f"{STAGING}/releases/99/rollout", {"percent": 10}),
    ("POST", f"{STAGING}/rollback", {"to_version": 99, "reason": "x"}),
    ("POST", f"{SHOP}/envs/prod/promote", {"from_env": "nowhere"}),
    ("GET", "/v1/no-such-route", None),
]


@pytest.mark.parametrize(("method", "path", "body"), NOT_FOUND)
def test_what_does_not_exist_is_404(shop: Any, method: str, path: str, body: object) -> None:
    shop.request(method, path, body).problem(404)
    shop.assert_nothing_appended()


def test_a_wrong_method_is_405_problem(shop: Any) -> None:
    shop.request("DELETE", SHOP).problem(405)
    shop.assert_nothing_appended()


def test_deploying_a_failed_build_is_409(shop: Any) -> None:
    problem = shop.request("POST", f"{STAGING}/deploys", {"build_id": "bad"}).problem(409)
    assert "bad" in problem["detail"]
    shop.assert_nothing_appended()


def test_a_body_over_1_mib_is_413(shop: Any) -> None:
    body = {"name": "big", "description": "x" * (ONE_MIB + 1024)}
    shop.request("POST", "/v1/apps", body).problem(413)
    shop.assert_nothing_appended()


def test_an_idempotency_key_returns_the_first_result_and_never_appends_twice(shop: Any) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"build_id": "ok", "description": "deploy once"}
    first = shop.request("POST", f"{SHOP}/envs/idem/deploys", body, headers=key)
    assert first.status == 201, first
    shop.last_position = first.json["position"]
    repeat = shop.request("POST", f"{SHOP}/envs/idem/deploys", body, headers=key)
    assert repeat.status == 201, repeat
    assert {k: v for k, v in repeat.json.items() if k != "replayed"} == first.json
    shop.assert_nothing_appended(since=first.json["position"])
    releases = shop.read(f"{SHOP}/envs/idem/releases")["releases"]
    assert [r["version"] for r in releases] == [1]


def test_an_idempotency_key_reused_with_another_body_is_409(shop: Any) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    path = f"{SHOP}/envs/idem2/flags/beta"
    first = shop.request("PUT", path, {"enabled": True}, headers=key)
    assert first.status == 201, first
    shop.last_position = first.json["position"]
    shop.request("PUT", path, {"enabled": False}, headers=key).problem(409)
    shop.assert_nothing_appended()
    assert shop.read(f"{SHOP}/envs/idem2")["flags"]["beta"]["enabled"] is True
