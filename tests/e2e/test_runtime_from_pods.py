"""From `kubectl get pods -o json` to the runtime status, end to end, on each backend: the
pipeline records builds and releases, `ledger report kubernetes --from FILE` reports the pods
of tests/fixtures/kubernetes as a user would, and the ledger shows the status, the drift, the
`runtime` events of history and GET /v1/drift. One environment per story; the pods are the
fixtures', or a subset of them (what `kubectl get pods -l …` would print)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api, Cli, LedgerServer, running_on

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kubernetes"
GRACE = 1.0  # LEDGER_DRIFT_GRACE_SECONDS: old pods may run this long after a release completed
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
OLD = "sha256:3d8288cdd092d7461314991c68b757faeb53ad4aa97fa0fe7288b1b7df5e5729"
NEW = "sha256:74004f0c07a08f2f49f2b2621cea7f0baaa6b14487eaf495b8548d2f37656597"
CART = "sha256:5c0db3ae43fa10cffe69889526639c51eabf11b266030fc5dc6f7d7d7f72a85e"
HOTFIX = "sha256:230a6628d4d9a566522d58b5f053357fb9b3beda52a5150122211e7d176a8ccb"
OLD_REPLICA_SET, NEW_REPLICA_SET = "7d9c5b8f4", "5f6b8c9d7"
BUILDS = {"shop-old": ("shop", OLD), "shop-new": ("shop", NEW), "cart-1": ("cart", CART)}

Pod = dict[str, Any]


@pytest.fixture(scope="module")
def runtime_server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LedgerServer]:
    """A server whose grace after a release is a second (the default is five minutes)."""
    workdir = tmp_path_factory.mktemp(f"pods-{backend}")
    with running_on(backend, request, workdir, LEDGER_DRIFT_GRACE_SECONDS=str(GRACE)) as server:
        yield server


@pytest.fixture(scope="module")
def api(runtime_server: LedgerServer) -> Api:
    """The apps the pods are labelled with, and every build CI recorded of them."""
    client = runtime_server.api()
    for app in ("shop", "cart"):
        client.write("POST", "/v1/apps", {"name": app})
    for n, (build_id, (app, digest)) in enumerate(BUILDS.items()):
        build = {"build_id": build_id, "commit": f"{n:0>40}", "artifact": {"digest": digest}}
        body = build | {"status": "succeeded"}
        client.write("POST", f"/v1/apps/{app}/builds", body, headers=CI)
    return client


class Cluster:
    """One environment: the pipeline releases into it, a Kubernetes reporter reports its pods."""

    def __init__(self, api: Api, cli: Cli, env: str, workdir: Path) -> None:
        self.api, self.cli, self.env, self.workdir = api, cli, env, workdir

    def deploy(self, app: str, build_id: str, **more: object) -> int:
        """A release of the build; returns its version."""
        body = {"build_id": build_id, **more}
        path = f"/v1/apps/{app}/envs/{self.env}/deploys"
        version: int = self.api.write("POST", path, body, headers=CI)["release"]["version"]
        return version

    def complete(self, app: str, version: int) -> None:
        self.end(app, version, "completed")

    def end(self, app: str, version: int, status: str) -> None:
        """The rollout of release ``version`` ends: completed, aborted or failed."""
        path = f"/v1/apps/{app}/envs/{self.env}/releases/{version}/rollout"
        self.api.write("POST", path, {"status": status}, headers=CI)

    def rollback(self, app: str, to_version: int) -> None:
        body = {"to_version": to_version, "reason": "old pods never went away"}
        self.api.write("POST", f"/v1/apps/{app}/envs/{self.env}/rollback", body, headers=CI)

    def report(self, story: str, keep: Callable[[Pod], bool] = lambda pod: True) -> str:
        """`ledger report kubernetes --from FILE` of the story's pods that ``keep`` keeps;
        returns what the command said."""
        pods = json.loads((FIXTURES / f"{story}.json").read_text())
        pods["items"] = [pod for pod in pods["items"] if keep(pod)]
        source = self.workdir / f"{story}-{len(pods['items'])}.json"
        source.write_text(json.dumps(pods))
        done = self.cli(
            "report", "kubernetes", "--env", self.env, "--from", str(source),
            LEDGER_URL=self.api.url,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stderr

    def runtime(self, app: str) -> dict[str, Any]:
        runtime: dict[str, Any] = self.api.read(f"/v1/apps/{app}/envs/{self.env}")["runtime"]
        return runtime

    def running(self, app: str) -> list[tuple[str, int | None]]:
        """Each instance's digest, and the release whose artifact that is."""
        instances = self.runtime(app)["instances"]
        return sorted((i["artifact_digest"], i["release_version"]) for i in instances)

    def drift_events(self, app: str) -> list[str]:
        """The summaries of the drift transitions of the app here, oldest first."""
        items = self.api.history(app=app, env=self.env, kind="runtime", limit=100)
        summaries = [i["summary"] for i in reversed(items)]
        return [s for s in summaries if s.startswith("drift")]

    def history_size(self) -> int:
        return len(self.api.history(env=self.env, limit=500))

    def listed_as_drifted(self) -> list[tuple[str, str]]:
        items = self.api.read("/v1/drift", env=self.env)["items"]
        return sorted((i["app"], i["runtime"]["status"]) for i in items)


@pytest.fixture
def cluster(api: Api, cli: Cli, request: pytest.FixtureRequest, tmp_path: Path) -> Cluster:
    """An environment of this test's own, named after it."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())
    return Cluster(api, cli, name[:63].strip("-"), tmp_path)


def in_replica_set(replica_set: str) -> Callable[[Pod], bool]:
    """The pods of one ReplicaSet of shop (`kubectl get pods -l pod-template-hash=…`)."""
    return lambda pod: pod["metadata"]["labels"].get("pod-template-hash") == replica_set


def without_replica_set(replica_set: str) -> Callable[[Pod], bool]:
    """Every pod but those of one ReplicaSet: the Deployment scaled it down to zero."""
    return lambda pod: not in_replica_set(replica_set)(pod)


def short(digest: str) -> str:
    """A digest as history shows it."""
    return f"{digest[:19]}…"


def past_the_grace() -> None:
    time.sleep(GRACE + 0.3)


def test_a_canary_mid_rollout_is_in_sync_until_it_completes_then_old_pods_are_drift(
    cluster: Cluster,
) -> None:
    # Given shop v1 (the old build) and cart run; shop v2 (the new build) rolls out as a canary
    cluster.deploy("shop", "shop-old")
    cluster.deploy("cart", "cart-1")
    cluster.deploy("shop", "shop-new", strategy="canary", steps=[33, 100])
    # When the Deployment is mid-rollout: two old pods, one new
    said = cluster.report("rollout")
    # Then both artifacts are expected, each pod named with its release
    assert f"reported 4 instance(s) of 2 app(s) in {cluster.env}" in said
    runtime = cluster.runtime("shop")
    assert (runtime["status"], runtime["drift"]) == ("in_sync", None)
    assert (runtime["expected_version"], runtime["expected_artifact"]) == (2, NEW)
    assert cluster.running("shop") == [(OLD, 1), (OLD, 1), (NEW, 2)]
    assert cluster.runtime("cart")["status"] == "in_sync"
    # When the rollout is completed and the grace has passed, the old pods still run
    cluster.complete("shop", 2)
    past_the_grace()
    cluster.report("rollout")
    # Then shop drifted: it runs v1's artifact beside v2's, told once
    runtime = cluster.runtime("shop")
    assert runtime["status"] == "drifted"
    assert runtime["drift"]["old_releases"] == [{"version": 1, "artifact_digest": OLD}]
    assert runtime["drift"]["unrecorded_artifacts"] == []
    assert cluster.drift_events("shop") == [
        f"drift detected: shop in {cluster.env} runs old release v1 (expected v2 ({short(NEW)}))"
    ]
    assert cluster.listed_as_drifted() == [("shop", "drifted")]
    # When the Deployment finishes: the old ReplicaSet is scaled down to zero
    cluster.report("rollout", keep=without_replica_set(OLD_REPLICA_SET))
    # Then the drift is resolved
    assert cluster.runtime("shop")["status"] == "in_sync"
    assert cluster.drift_events("shop")[-1] == (
        f"drift resolved: shop in {cluster.env} runs v2 ({short(NEW)})"
    )
    assert cluster.listed_as_drifted() == []


def test_a_rollback_to_the_release_the_old_pods_run_resolves_their_drift(
    cluster: Cluster,
) -> None:
    # Given shop v2 completed, and past the grace v1's pods still run beside v2's
    cluster.deploy("shop", "shop-old")
    cluster.deploy("cart", "cart-1")
    cluster.deploy("shop", "shop-new", strategy="canary", steps=[33, 100])
    cluster.complete("shop", 2)
    past_the_grace()
    cluster.report("rollout")
    assert cluster.runtime("shop")["status"] == "drifted"
    # When the team rolls back to v1 (v3, the old build again)
    cluster.rollback("shop", to_version=1)
    # Then the rollback itself resolves the drift: the old pods run what is expected now
    assert cluster.drift_events("shop") == [
        f"drift detected: shop in {cluster.env} runs old release v1 (expected v2 ({short(NEW)}))",
        f"drift resolved: shop in {cluster.env} runs v3 ({short(OLD)})",
    ]
    assert cluster.listed_as_drifted() == []
    # When the Deployment has rolled back: only the old ReplicaSet's pods run
    cluster.report("rollout", keep=without_replica_set(NEW_REPLICA_SET))
    # Then they run v3 and nothing more is told
    runtime = cluster.runtime("shop")
    assert (runtime["status"], runtime["expected_version"]) == ("in_sync", 3)
    assert cluster.running("shop") == [(OLD, 3), (OLD, 3)]
    assert len(cluster.drift_events("shop")) == 2


def test_an_image_pushed_by_hand_is_an_unrecorded_artifact_until_the_release_runs_again(
    cluster: Cluster,
) -> None:
    # Given shop v1 is the new build
    cluster.deploy("shop", "shop-new")
    # When the only shop pod runs a tag pushed by hand
    cluster.report("hand-pushed")
    # Then shop drifted, naming the digest no build produced
    runtime = cluster.runtime("shop")
    assert runtime["status"] == "drifted"
    assert runtime["drift"]["unrecorded_artifacts"] == [HOTFIX]
    assert runtime["drift"]["old_releases"] == []
    assert cluster.running("shop") == [(HOTFIX, None)]
    assert cluster.drift_events("shop") == [
        f"drift detected: shop in {cluster.env} runs an unrecorded artifact "
        f"{short(HOTFIX)} (expected v1 ({short(NEW)}))"
    ]
    assert cluster.listed_as_drifted() == [("shop", "drifted")]
    # When the Deployment runs the released build again
    cluster.report("rollout", keep=in_replica_set(NEW_REPLICA_SET))
    # Then the drift is resolved
    assert cluster.runtime("shop")["status"] == "in_sync"
    assert cluster.drift_events("shop")[-1] == (
        f"drift resolved: shop in {cluster.env} runs v1 ({short(NEW)})"
    )
    assert cluster.listed_as_drifted() == []


def test_a_crash_looping_pod_counts_with_its_last_runs_digest(cluster: Cluster) -> None:
    # Given shop v1 is the new build
    cluster.deploy("shop", "shop-new")
    # When one pod crash-loops and another's container never started
    said = cluster.report("crashloop")
    # Then the crash-looping pod runs v1's artifact, and the other is skipped and said so
    assert "skipped shop-5f6b8c9d7-pqr12" in said
    runtime = cluster.runtime("shop")
    assert (runtime["status"], runtime["drift"]) == ("in_sync", None)
    assert [i["id"] for i in runtime["instances"]] == ["shop-5f6b8c9d7-mno90"]
    assert cluster.running("shop") == [(NEW, 1)]
    assert cluster.drift_events("shop") == []


def test_only_the_app_container_counts_not_sidecars_or_init_containers(cluster: Cluster) -> None:
    # Given shop and cart are released
    cluster.deploy("shop", "shop-new")
    cluster.deploy("cart", "cart-1")
    # When their pods run sidecars (istio, a log shipper) and init containers
    cluster.report("sidecars")
    # Then only the apps' own containers' digests count: no drift
    assert cluster.running("shop") == [(NEW, 1)]
    assert cluster.running("cart") == [(CART, 1)]
    assert [cluster.runtime(app)["status"] for app in ("shop", "cart")] == ["in_sync", "in_sync"]
    assert cluster.drift_events("shop") == cluster.drift_events("cart") == []
    assert cluster.listed_as_drifted() == []


def test_no_running_pod_of_a_released_app_is_not_running_until_one_runs(
    cluster: Cluster,
) -> None:
    # Given shop v1 is released
    cluster.deploy("shop", "shop-new")
    # When no shop pod runs: pulling, unschedulable, a finished job, an unlabelled pod
    said = cluster.report("not-running")
    # Then shop is not running, every pod skipped with its reason
    assert f"reported 0 instance(s) of 0 app(s) in {cluster.env}" in said
    assert said.count("skipped ") == 4
    runtime = cluster.runtime("shop")
    assert (runtime["status"], runtime["instances"]) == ("not_running", [])
    assert cluster.drift_events("shop") == [
        f"drift detected: shop in {cluster.env} is not running (expected v1 ({short(NEW)}))"
    ]
    assert cluster.listed_as_drifted() == [("shop", "not_running")]
    # When the image is pulled and the pod runs
    cluster.report("rollout", keep=in_replica_set(NEW_REPLICA_SET))
    # Then it is resolved
    assert cluster.runtime("shop")["status"] == "in_sync"
    assert cluster.drift_events("shop")[-1] == (
        f"drift resolved: shop in {cluster.env} runs v1 ({short(NEW)})"
    )
    assert cluster.listed_as_drifted() == []


@pytest.mark.parametrize(
    ("story", "status"),
    [("sidecars", "in_sync"), ("hand-pushed", "drifted"), ("not-running", "not_running")],
)
def test_the_same_pods_again_append_nothing(cluster: Cluster, story: str, status: str) -> None:
    # Given shop and cart are released, and the pods were reported
    cluster.deploy("shop", "shop-new")
    cluster.deploy("cart", "cart-1")
    cluster.report(story)
    before = cluster.history_size()
    assert cluster.runtime("shop")["status"] == status
    # When the reporter reports the same pods again
    cluster.report(story)
    # Then nothing is appended, and the status is the same
    assert cluster.history_size() == before
    assert cluster.runtime("shop")["status"] == status


def test_an_aborted_canarys_pods_may_run_for_the_grace_then_are_drift(cluster: Cluster) -> None:
    # Given shop v2 rolls out as a canary beside v1, and the pods were reported mid-rollout
    cluster.deploy("shop", "shop-old")
    cluster.deploy("cart", "cart-1")
    cluster.deploy("shop", "shop-new", strategy="canary", steps=[33, 100])
    cluster.report("rollout")
    # When the canary is aborted: v1 is current again while the canary's pod goes away
    cluster.end("shop", 2, "aborted")
    # Then that pod is no drift yet
    assert cluster.runtime("shop")["status"] == "in_sync"
    assert cluster.drift_events("shop") == []
    # When it still runs past the grace
    past_the_grace()
    cluster.report("rollout")
    # Then it is drift, named with the canary's version
    runtime = cluster.runtime("shop")
    assert (runtime["status"], runtime["expected_version"]) == ("drifted", 1)
    assert runtime["drift"]["old_releases"] == [{"version": 2, "artifact_digest": NEW}]
    # When the canary's ReplicaSet is scaled down to zero
    cluster.report("rollout", keep=without_replica_set(NEW_REPLICA_SET))
    # Then the drift is resolved
    assert cluster.drift_events("shop") == [
        f"drift detected: shop in {cluster.env} runs old release v2 (expected v1 ({short(OLD)}))",
        f"drift resolved: shop in {cluster.env} runs v1 ({short(OLD)})",
    ]
