"""A release story told over HTTP to a real server, then read back the ways people ask:
what runs now, what ran then, which releases exist, what changed and who did it.

The story (module fixture ``story``) writes; each test then checks one thing a user relies on.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

APP = "/v1/apps/shop"
STAGING = f"{APP}/envs/staging"
PROD = f"{APP}/envs/prod"
PLANTED = ("hunter2-stg-db-Zq8", "tok-stg-api-Wm3", "hunter2-prod-db-Kx5", "tok-prod-api-Pv7")
FORCED_REASON = "checkout errors; the dropped table is not needed"
MIGRATION = "0042-drop-legacy-orders"
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
ALICE = {"X-Ledger-Actor": "alice", "X-Ledger-Actor-Kind": "human"}
RELEASE_FIELDS = {
    "version",
    "build_id",
    "commit",
    "config_version",
    "status",
    "rollout_percent",
    "rollback_of",
    "description",
    "actor",
    "created_at",
}
HISTORY_FIELDS = {
    "position",
    "event_id",
    "app",
    "env",
    "kind",
    "actor",
    "actor_kind",
    "via",
    "summary",
    "reason",
    "recorded_at",
    "data",
}


class Shop:
    """The app ``shop`` as its pipeline (ci-bot) and its on-call engineer (alice) change it."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def create(self) -> Any:
        body = {"name": "shop", "description": "The web shop"}
        return self.api.write("POST", "/v1/apps", body, headers=ALICE)

    def record_build(self, build_id: str, commit: str, status: str, *, run: int) -> Any:
        body = {
            "build_id": build_id,
            "commit": commit,
            "branch": "main",
            "artifact": {"digest": f"sha256:{commit * 8}", "url": f"registry/shop:{build_id}"},
            "stack": "python-3.11",
            "status": status,
            "pipeline": {
                "name": "shop-ci",
                "run_id": f"run-{run}",
                "url": f"https://ci/runs/{run}",
            },
            "committed_at": "2024-05-07T10:00:00Z",
            "finished_at": "2024-05-07T10:05:00Z",
        }
        return self.api.write("POST", f"{APP}/builds", body, headers=ci_run(run))

    def configure(self, env: str, db_password: str, api_token: str) -> Any:
        config = {
            "DB_HOST": f"db.{env}.internal",
            "DB_PASSWORD": db_password,
            "API_TOKEN_X": api_token,
        }
        body = {"set": config, "secret": ["API_TOKEN_X"], "reason": "first config"}
        return self.api.write("POST", f"{APP}/envs/{env}/config", body, headers=ALICE)

    def deploy(self, env: str, build_id: str, *, run: int, **options: Any) -> Any:
        body = {"build_id": build_id, **options}
        return self.api.write("POST", f"{APP}/envs/{env}/deploys", body, headers=ci_run(run))

    def rollout(self, version: int, **body: Any) -> Any:
        return self.api.write("POST", f"{PROD}/releases/{version}/rollout", body, headers=ALICE)

    def flip(self, env: str, flag: str, **body: Any) -> Any:
        return self.api.write("PUT", f"{APP}/envs/{env}/flags/{flag}", body, headers=ALICE)

    def promote(self, env: str, from_env: str, *, run: int) -> Any:
        body = {"from_env": from_env}
        return self.api.write("POST", f"{APP}/envs/{env}/promote", body, headers=ci_run(run))

    def migrate(self, env: str, migration_id: str, *, reversible: bool, run: int) -> Any:
        body = {
            "migration_id": migration_id,
            "schema_version": "42",
            "reversible": reversible,
            "description": "drop the legacy orders table",
        }
        return self.api.write("POST", f"{APP}/envs/{env}/migrations", body, headers=ci_run(run))

    def rollback(self, env: str, **body: Any) -> Any:
        return self.api.request("POST", f"{APP}/envs/{env}/rollback", body, headers=ALICE)


def ci_run(run: int) -> dict[str, str]:
    return CI | {"X-Ledger-Correlation-Id": f"run-{run}"}


@dataclass
class Story:
    api: Any  # the conftest's Api
    started_at: datetime
    writes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: dict[str, Any] = field(default_factory=dict)
    before_migration: datetime | None = None

    def position(self, step: str) -> int:
        position: int = self.writes[step]["position"]
        return position


def tell(api: Any) -> Story:
    """The story of shop's releases, through every kind of change."""
    story = Story(api=api, started_at=datetime.now(UTC) - timedelta(seconds=1))
    shop, w = Shop(api), story.writes
    w["app"] = shop.create()
    w["b1"] = shop.record_build("b1", "a1b2c3d4", "failed", run=1)
    w["b2"] = shop.record_build("b2", "b2c3d4e5", "succeeded", run=2)
    w["b3"] = shop.record_build("b3", "c3d4e5f6", "succeeded", run=3)
    w["staging-config"] = shop.configure("staging", PLANTED[0], PLANTED[1])
    w["staging-b2"] = shop.deploy("staging", "b2", run=2)
    w["prod-config"] = shop.configure("prod", PLANTED[2], PLANTED[3])
    canary = {"strategy": "canary", "steps": [1, 10, 50, 100], "description": "canary of b2"}
    w["prod-canary"] = shop.deploy("prod", "b2", run=4, **canary)
    w["prod-canary-retry"] = shop.deploy("prod", "b2", run=4, **canary)
    w["rollout-10"] = shop.rollout(2, percent=10)
    w["rollout-50"] = shop.rollout(2, percent=50)
    w["rollout-completed"] = shop.rollout(2, status="completed")
    w["flag"] = shop.flip("prod", "new-checkout", enabled=True, rollout_percent=25, reason="beta")
    w["staging-b3"] = shop.deploy("staging", "b3", run=5)
    w["promote"] = shop.promote("prod", "staging", run=6)
    story.before_migration = _between_writes()
    w["migration"] = shop.migrate("prod", MIGRATION, reversible=False, run=7)
    story.refused["rollback"] = shop.rollback("prod", to_version=2, reason="checkout errors")
    story.refused["failed-build"] = api.request(
        "POST", f"{PROD}/deploys", {"build_id": "b1"}, headers=ci_run(8)
    )
    api.assert_nothing_appended()
    w["rollback"] = api.write(
        "POST",
        f"{PROD}/rollback",
        {"to_version": 2, "reason": FORCED_REASON, "force": True},
        headers=ALICE,
    )
    return story


def _between_writes() -> datetime:
    """A moment strictly after the last write and before the next one."""
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    return moment


@pytest.fixture(scope="module")
def story(api: Any) -> Story:
    return tell(api)


def test_writes_answer_201_with_increasing_positions(story: Story) -> None:
    steps = [s for s in story.writes if s != "prod-canary-retry"]
    positions = [story.position(s) for s in steps]
    assert positions == sorted(positions) and len(set(positions)) == len(positions), story.writes


def test_release_creating_writes_return_the_release(story: Story) -> None:
    w = story.writes
    creating = ("staging-config", "staging-b2", "prod-config", "prod-canary", "promote")
    for step in (*creating, "rollback"):
        assert set(w[step]["release"]) >= RELEASE_FIELDS, (step, w[step])
    assert w["staging-config"]["release"]["version"] == 1
    assert w["staging-config"]["release"]["build_id"] is None
    assert w["staging-b2"]["release"]["version"] == 2
    assert w["staging-b2"]["release"]["build_id"] == "b2"
    canary = w["prod-canary"]["release"]
    assert (canary["version"], canary["status"], canary["rollout_percent"]) == (2, "rolling_out", 1)
    assert canary["actor"] == "ci-bot"
    for step in ("b1", "rollout-10", "flag", "migration"):
        assert w[step].get("release") is None, (step, w[step])


def test_a_ci_retry_of_the_same_run_returns_the_original_result(story: Story) -> None:
    first, retry = story.writes["prod-canary"], story.writes["prod-canary-retry"]
    assert retry["position"] == first["position"]
    assert retry["release"] == first["release"]
    deploys = story.api.history(app="shop", env="prod", kind="deploy")
    assert [i["position"] for i in deploys] == [first["position"]], deploys


def test_a_rollback_across_an_irreversible_migration_is_refused(story: Story) -> None:
    problem = story.refused["rollback"].problem(409)
    assert MIGRATION in problem["detail"], problem


def test_a_failed_build_cannot_be_deployed(story: Story) -> None:
    problem = story.refused["failed-build"].problem(409)
    assert "b1" in problem["detail"], problem


def test_a_forced_rollback_restores_the_old_build_and_config(story: Story) -> None:
    release = story.writes["rollback"]["release"]
    assert (release["version"], release["rollback_of"], release["build_id"]) == (4, 2, "b2")
    assert release["status"] == "succeeded" and release["actor"] == "alice"
    [item] = story.api.history(app="shop", kind="rollback")
    assert item["reason"] == FORCED_REASON
    assert (item["actor"], item["actor_kind"], item["env"]) == ("alice", "human", "prod")


def test_current_state_shows_release_config_flags_and_schema(story: Story) -> None:
    state = story.api.read(PROD)
    assert (state["app"], state["env"]) == ("shop", "prod")
    assert state["position"] >= story.position("rollback")
    release = state["release"]
    assert set(release) >= RELEASE_FIELDS
    assert (release["version"], release["build_id"], release["rollback_of"]) == (4, "b2", 2)
    assert release["commit"] == "b2c3d4e5"
    assert state["config"]["DB_HOST"] == "db.prod.internal"
    for key in ("DB_PASSWORD", "API_TOKEN_X"):
        assert re.fullmatch(r"<secret:.+>", state["config"][key]), state["config"]
    assert state["flags"] == {"new-checkout": {"enabled": True, "rollout_percent": 25}}
    assert state["schema_version"] == "42"


def test_canary_rollout_progress_is_visible(story: Story) -> None:
    api = story.api
    at_50 = api.read(PROD, position=story.position("rollout-50"))
    assert (at_50["release"]["version"], at_50["release"]["status"]) == (2, "rolling_out")
    assert at_50["release"]["rollout_percent"] == 50
    done = api.read(PROD, position=story.position("rollout-completed"))
    assert (done["release"]["status"], done["release"]["rollout_percent"]) == ("succeeded", 100)


def test_promotion_deploys_exactly_the_artifact_of_the_source(story: Story) -> None:
    staging = story.api.read(STAGING)["release"]
    promoted = story.writes["promote"]["release"]
    assert (promoted["version"], promoted["build_id"]) == (3, "b3")
    assert promoted["commit"] == staging["commit"] == "c3d4e5f6"
    if "artifact_digest" in promoted:
        assert promoted["artifact_digest"] == staging["artifact_digest"]


def test_state_as_it_was_then(story: Story) -> None:
    api = story.api
    by_release = api.read(PROD, release=2)
    assert (by_release["release"]["version"], by_release["release"]["build_id"]) == (2, "b2")
    by_position = api.read(PROD, position=story.position("prod-config"))
    assert by_position["release"]["version"] == 1 and by_position["release"]["build_id"] is None
    assert by_position["flags"] == {}
    assert story.before_migration is not None
    by_time = api.read(PROD, at=story.before_migration.isoformat())
    assert by_time["release"]["version"] == 3 and by_time["schema_version"] is None
    before_all = api.get(PROD, at=story.started_at.isoformat())
    assert before_all.status == 404 or before_all.json.get("release") is None, before_all


def test_releases_are_listed_with_their_status(story: Story) -> None:
    releases = story.api.read(f"{PROD}/releases")["releases"]
    by_version = {r["version"]: r for r in releases}
    assert sorted(by_version) == [1, 2, 3, 4]
    assert all(set(r) >= RELEASE_FIELDS for r in releases)
    assert [by_version[v]["status"] for v in (1, 2, 3, 4)] == ["superseded"] * 3 + ["succeeded"]
    assert by_version[4]["rollback_of"] == 2 and by_version[2]["description"] == "canary of b2"
    one = story.api.read(f"{PROD}/releases/3")
    assert (one["version"], one["build_id"]) == (3, "b3")


def test_history_is_newest_first_with_a_summary_per_change(story: Story) -> None:
    items = story.api.history(app="shop", limit=100)
    positions = [i["position"] for i in items]
    assert positions == sorted(positions, reverse=True)
    assert all(set(i) >= HISTORY_FIELDS for i in items), items[0]
    assert all(i["summary"] and "\n" not in i["summary"] for i in items)
    expected = {s: story.position(s) for s in story.writes if s != "prod-canary-retry"}
    assert set(expected.values()) <= set(positions), (expected, positions)
    kinds = {i["kind"] for i in items}
    assert kinds >= {
        "app",
        "build",
        "config",
        "deploy",
        "rollout",
        "flag",
        "promote",
        "migration",
        "rollback",
    }
    assert all(i["via"] == "http" for i in items)


def test_history_filters(story: Story) -> None:
    api = story.api
    rollouts = api.history(app="shop", env="prod", kind="rollout")
    assert len(rollouts) == 3 and {(i["env"], i["kind"]) for i in rollouts} == {("prod", "rollout")}
    by_ci = api.history(app="shop", actor="ci-bot", limit=100)
    assert by_ci and {(i["actor"], i["actor_kind"]) for i in by_ci} == {("ci-bot", "ci")}
    assert {i["kind"] for i in by_ci} >= {"build", "deploy", "promote", "migration"}
    builds = api.history(app="shop", kind="build")
    assert len(builds) == 3
    flag = api.history(app="shop", q="new-checkout")
    assert story.position("flag") in [i["position"] for i in flag], flag
    assert api.history(app="shop", since=story.started_at.isoformat(), limit=100)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api.history(app="shop", since=future) == []
    assert api.history(app="shop", until=story.started_at.isoformat()) == []
    assert api.history(app="no-such-app") == []


def test_history_pages_with_a_cursor(story: Story) -> None:
    api = story.api
    everything = [i["position"] for i in api.history(app="shop", limit=100)]
    pages: list[list[int]] = []
    cursor = None
    while True:
        page = api.read("/v1/history", app="shop", limit=4, cursor=cursor)
        pages.append([i["position"] for i in page["items"]])
        assert len(pages[-1]) <= 4
        cursor = page["next"]
        if cursor is None:
            break
        assert len(pages) < 50, "the cursor never ends"
    assert [p for page in pages for p in page] == everything
    assert len(pages) >= 3


def test_history_after_a_position_is_oldest_first(story: Story) -> None:
    since = story.position("prod-canary")
    after = story.api.history(app="shop", after=since, limit=100)
    positions = [i["position"] for i in after]
    assert positions == sorted(positions) and all(p > since for p in positions)
    newest_first = [i["position"] for i in story.api.history(app="shop", limit=100)]
    assert positions == sorted(p for p in newest_first if p > since)


def test_a_read_after_a_write_sees_the_write(story: Story) -> None:
    api = story.api
    written = api.write("PUT", f"{STAGING}/flags/dark-mode", {"enabled": True}, headers=ALICE)
    state = api.get(STAGING, min_position=written["position"])
    assert state.status == 200, state
    assert state.json["position"] >= written["position"]
    assert state.json["flags"]["dark-mode"] == {"enabled": True, "rollout_percent": None}
    history = api.get("/v1/history", app="shop", min_position=written["position"], limit=1)
    assert history.json["items"][0]["position"] == written["position"], history


def test_apps_list_their_environments(story: Story) -> None:
    app = story.api.read(APP)
    envs = {e["env"]: e for e in app["envs"]}
    assert set(envs) == {"staging", "prod"}
    assert envs["prod"]["release"]["version"] == 4
    assert "shop" in [a["name"] for a in story.api.read("/v1/apps")["apps"]]


def test_no_secret_value_ever_appears_in_an_answer(story: Story) -> None:
    api = story.api
    api.read("/v1/history", limit=500)
    for env in ("staging", "prod"):
        api.read(f"{APP}/envs/{env}")
        api.read(f"{APP}/envs/{env}", release=1)
        api.read(f"{APP}/envs/{env}/releases")
    config_items = api.history(app="shop", kind="config")
    assert len(config_items) == 2
    assert api.bodies
    for body in api.bodies:
        for secret in PLANTED:
            assert secret.encode() not in body, body[:400]
