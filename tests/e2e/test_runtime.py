"""What actually runs, told by reporters over HTTP to a real server on each backend: every
runtime status and transition, reports that change nothing, two reporters of one environment,
the grace after a release, canaries, rollbacks resolving drift, the CLI and DORA."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from ..conftest import fresh_database
from .conftest import Api, Cli, LedgerServer, running, server_environ

pytestmark = pytest.mark.e2e

GRACE = 3.0
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
REPORTER = {"X-Ledger-Actor": "k8s-reporter", "X-Ledger-Actor-Kind": "system"}
UNRECORDED = "sha256:" + "e" * 64


def digest(build: str) -> str:
    return "sha256:" + (build.encode().hex() + "a" * 64)[:64]


@pytest.fixture(scope="module")
def runtime_server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LedgerServer]:
    """A server whose grace after a release is a few seconds (the default is five minutes)."""
    workdir = tmp_path_factory.mktemp(f"runtime-{backend}")
    env = server_environ(workdir / "data") | {"LEDGER_DRIFT_GRACE_SECONDS": str(GRACE)}
    if backend == "postgres":
        with (
            fresh_database(request.getfixturevalue("postgres_admin_url")) as url,
            running(env | {"LEDGER_DATABASE_URL": url}, workdir) as server,
        ):
            yield server
    else:
        with running(env, workdir) as server:
            yield server


class Cluster:
    """One app in one environment: its pipeline deploys, its reporters report."""

    def __init__(self, api: Api, app: str, env: str = "prod") -> None:
        self.api, self.app, self.env = api, app, env
        api.write("POST", "/v1/apps", {"name": app})
        self.path = f"/v1/apps/{app}/envs/{env}"

    def build(self, bid: str) -> None:
        body = {
            "build_id": bid,
            "commit": "ab12cd34",
            "artifact": {"digest": digest(bid)},
            "status": "succeeded",
        }
        self.api.write("POST", f"/v1/apps/{self.app}/builds", body, headers=CI)

    def deploy(self, bid: str, **more: object) -> dict[str, Any]:
        self.build(bid)
        body = {"build_id": bid, **more}
        return self.api.write("POST", f"{self.path}/deploys", body, headers=CI)  # type: ignore[no-any-return]

    def report(
        self, *digests: str, reporter: str = "k8s:prod-eu", pods: str = "a", complete: bool = True
    ) -> dict[str, Any]:
        instances = [
            {"id": f"{self.app}-{pods}-{n}", "artifact_digest": d} for n, d in enumerate(digests)
        ]
        body = {
            "reporter": reporter,
            "env": self.env,
            "complete": complete,
            "workloads": [{"app": self.app, "instances": instances}] if digests else [],
        }
        answer = self.api.request("POST", "/v1/runtime/reports", body, headers=REPORTER)
        assert answer.status in (200, 201), self.api.explain(answer)
        self.api._advance(answer)
        return answer.json  # type: ignore[no-any-return]

    def runtime(self, **query: object) -> dict[str, Any]:
        return self.api.read(self.path, **query)["runtime"]  # type: ignore[no-any-return]

    def runtime_history(self) -> list[str]:
        items = self.api.history(app=self.app, env=self.env, kind="runtime", limit=50)
        return [i["summary"] for i in reversed(items)]


@pytest.fixture(scope="module")
def api(runtime_server: LedgerServer) -> Api:
    return runtime_server.api()


@pytest.fixture
def cluster(api: Api, request: pytest.FixtureRequest) -> Cluster:
    name = request.node.name.split("[")[0].removeprefix("test_").replace("_", "-")[:60]
    return Cluster(api, name.strip("-"))


def test_no_report_is_unknown_and_a_report_of_the_release_is_in_sync(cluster: Cluster) -> None:
    cluster.deploy("b1")
    assert cluster.runtime()["status"] == "unknown"
    answer = cluster.report(digest("b1"), digest("b1"))
    assert answer["appended"] == 1 and answer["changed_apps"] == [cluster.app]
    runtime = cluster.runtime()
    assert runtime["status"] == "in_sync"
    assert runtime["expected_artifact"] == digest("b1")
    assert [(i["release_version"], i["reporter"]) for i in runtime["instances"]] == [
        (1, "k8s:prod-eu"),
        (1, "k8s:prod-eu"),
    ]
    assert cluster.runtime_history()[-1].startswith(f"k8s:prod-eu sees {cluster.app} in prod")


def test_a_repeated_report_appends_nothing_but_moves_the_report_time(
    cluster: Cluster, api: Api
) -> None:
    cluster.deploy("b1")
    cluster.report(digest("b1"), pods="a")
    first = cluster.runtime()["observed_at"]
    since = api.last_position
    answer = cluster.report(digest("b1"), pods="restarted")
    assert answer == {
        "position": 0,
        "appended": 0,
        "changed_apps": [],
        "unknown_apps": [],
    }
    api.assert_nothing_appended(since)
    assert cluster.runtime()["observed_at"] > first


def test_an_unrecorded_artifact_is_drift_detected_once_and_resolved(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.report(digest("b1"), UNRECORDED)
    runtime = cluster.runtime()
    assert runtime["status"] == "drifted"
    assert runtime["drift"]["unrecorded_artifacts"] == [UNRECORDED]
    assert runtime["drift"]["since"] is not None
    cluster.report(digest("b1"), UNRECORDED, pods="b")  # same artifacts: nothing new
    cluster.report(digest("b1"))
    assert cluster.runtime()["status"] == "in_sync"
    summaries = cluster.runtime_history()
    detected = [s for s in summaries if s.startswith("drift detected")]
    assert detected == [
        f"drift detected: {cluster.app} in prod runs an unrecorded artifact sha256:eeeeeeeeeeee… "
        f"(expected v1 ({digest('b1')[:19]}…))"
    ]
    assert summaries[-1].startswith(f"drift resolved: {cluster.app} in prod runs v1")
    listed = cluster.api.read("/v1/drift", app=cluster.app)["items"]
    assert listed == []


def test_drift_is_listed_by_app_and_env(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.report(UNRECORDED)
    listed = cluster.api.read("/v1/drift", app=cluster.app)["items"]
    assert [(i["app"], i["env"], i["runtime"]["status"]) for i in listed] == [
        (cluster.app, "prod", "drifted")
    ]
    assert cluster.api.read("/v1/drift", app=cluster.app, env="staging")["items"] == []


def test_a_complete_report_without_the_app_is_not_running(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.report(digest("b1"))
    cluster.report(reporter="k8s:prod-eu")  # complete, lists no instance of the app
    runtime = cluster.runtime()
    assert runtime["status"] == "not_running" and runtime["instances"] == []
    assert any("is not running" in s for s in cluster.runtime_history())


def test_two_reporters_of_one_environment_are_one_union(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.report(digest("b1"), reporter="k8s:prod-eu")
    cluster.report(digest("b1"), reporter="k8s:prod-us")
    runtime = cluster.runtime()
    assert runtime["status"] == "in_sync"
    assert sorted(i["reporter"] for i in runtime["instances"]) == ["k8s:prod-eu", "k8s:prod-us"]
    cluster.report(UNRECORDED, reporter="k8s:prod-us")
    assert cluster.runtime()["status"] == "drifted"


def test_old_instances_are_drift_only_after_the_grace(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.report(digest("b1"))
    cluster.deploy("b2")
    cluster.report(digest("b2"), digest("b1"))  # a rolling update, within the grace
    assert cluster.runtime()["status"] == "in_sync"
    time.sleep(GRACE + 0.5)
    unchanged = cluster.report(digest("b2"), digest("b1"), pods="b")  # the next report
    assert unchanged["appended"] == 1  # what runs is the same; the drift is new
    runtime = cluster.runtime()
    assert runtime["status"] == "drifted"
    assert runtime["drift"]["old_releases"] == [{"version": 1, "artifact_digest": digest("b1")}]


def test_a_canary_expects_both_artifacts(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.deploy("b2", strategy="canary")
    time.sleep(GRACE + 0.5)
    cluster.report(digest("b1"), digest("b1"), digest("b2"))
    assert cluster.runtime()["status"] == "in_sync"


def test_a_rollback_resolves_drift(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.deploy("b2")
    time.sleep(GRACE + 0.5)
    cluster.report(digest("b1"))  # rolled back by hand, outside the ledger
    assert cluster.runtime()["status"] == "drifted"
    body = {"to_version": 1, "reason": "b2 broke checkout"}
    cluster.api.write("POST", f"{cluster.path}/rollback", body, headers=CI)
    assert cluster.runtime()["status"] == "in_sync"
    assert cluster.runtime_history()[-1].startswith("drift resolved")


def test_the_runtime_as_it_was_then(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.report(UNRECORDED)
    drifted_at = cluster.api.last_position
    cluster.report(digest("b1"))
    then = cluster.runtime(position=drifted_at)
    assert then["status"] == "drifted" and then["drift"]["unrecorded_artifacts"] == [UNRECORDED]
    detected = next(i for i in cluster.api.history(app=cluster.app) if i["position"] == drifted_at)
    at = cluster.runtime(at=detected["recorded_at"])
    assert at["status"] == "drifted" and at["expected_artifact"] == digest("b1")
    assert cluster.runtime()["status"] == "in_sync"


def test_unknown_apps_are_listed_not_failed(cluster: Cluster, api: Api) -> None:
    cluster.deploy("b1")
    body = {
        "reporter": "k8s:prod-eu",
        "env": "prod",
        "complete": False,
        "workloads": [
            {"app": cluster.app, "instances": [{"id": "p-1", "artifact_digest": digest("b1")}]},
            {"app": "never-created", "instances": [{"id": "p-2", "artifact_digest": UNRECORDED}]},
        ],
    }
    answer = api.request("POST", "/v1/runtime/reports", body, headers=REPORTER)
    assert answer.status == 201, answer
    assert answer.json["unknown_apps"] == ["never-created"]
    assert answer.json["changed_apps"] == [cluster.app]


def test_one_apps_report_on_its_own_route(cluster: Cluster, api: Api) -> None:
    cluster.deploy("b1")
    body = {
        "reporter": "static:web-1",
        "instances": [{"id": "web-1", "artifact_digest": UNRECORDED}],
    }
    first = api.request("POST", f"{cluster.path}/runtime", body, headers=REPORTER)
    assert first.status == 201 and first.json["position"] > 0, first
    again = api.request("POST", f"{cluster.path}/runtime", body, headers=REPORTER)
    assert again.status == 200 and again.json["position"] == 0, again
    api._advance(first)
    assert cluster.runtime()["status"] == "drifted"


def test_the_cli_shows_the_runtime_and_lists_drift(
    cluster: Cluster, cli: Cli, runtime_server: LedgerServer
) -> None:
    cluster.deploy("b1")
    cluster.report(digest("b1"), UNRECORDED)
    shown = cli("state", cluster.app, "prod", LEDGER_URL=runtime_server.url)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if x.strip().startswith("runtime"))
    assert "drifted: 1 of v1" in line and "unrecorded sha256:eeeeeeeeeeee…" in line, line
    listed = cli("drift", "--app", cluster.app, LEDGER_URL=runtime_server.url)
    assert listed.returncode == 0, listed.stderr
    assert cluster.app in listed.stdout and "drifted" in listed.stdout
    clean = cli("drift", "--app", cluster.app, "--env", "staging", LEDGER_URL=runtime_server.url)
    assert "every reported environment is in sync" in clean.stdout


def test_dora_counts_the_time_drifted_and_the_unrecorded_artifacts(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.report(UNRECORDED)
    time.sleep(0.5)
    cluster.report(digest("b1"))
    dora = cluster.api.read(f"{cluster.path}/dora", days=1)["metrics"]
    assert dora["unrecorded_artifacts"] == 1
    assert 0.4 < dora["time_drifted_seconds"] < 30


def test_runtime_events_keep_the_log_verifiable(cluster: Cluster) -> None:
    cluster.deploy("b1")
    cluster.report(UNRECORDED)
    cluster.report(digest("b1"))
    report = cluster.api.read("/v1/verify")
    assert report["ok"] is True, report


def test_a_recorded_build_never_released_there_is_drift_but_not_unrecorded(
    cluster: Cluster,
) -> None:
    cluster.deploy("b1")
    body = {"commit": "cd34ab12", "artifact": {"digest": digest("b9")}, "status": "succeeded"}
    cluster.api.write("POST", f"/v1/apps/{cluster.app}/builds", body, headers=CI)  # no build_id
    cluster.report(digest("b9"))
    drift = cluster.runtime()["drift"]
    assert (drift["unrecorded_artifacts"], drift["other_artifacts"]) == ([], [digest("b9")])


def test_a_build_recorded_under_its_own_id_is_drift_but_not_unrecorded(
    cluster: Cluster, api: Api
) -> None:
    cluster.deploy("b1")
    cluster.build("b42")  # recorded by CI, never released in prod
    since = api.last_position
    cluster.build("b42")  # the same build again
    api.assert_nothing_appended(since)
    cluster.report(digest("b42"), UNRECORDED)
    drift = cluster.runtime()["drift"]
    assert (drift["unrecorded_artifacts"], drift["other_artifacts"]) == (
        [UNRECORDED],
        [digest("b42")],
    )
    report = api.read("/v1/verify")
    assert report["ok"] is True, report
