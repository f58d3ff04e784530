"""`ledger report` tells a real ledger what actually runs, and the environment's state shows it
(the contract of POST /v1/runtime/reports: 2xx, then `runtime.instances` of
GET /v1/apps/{app}/envs/{env} holds the reported digests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kubernetes"
OLD = "sha256:3d8288cdd092d7461314991c68b757faeb53ad4aa97fa0fe7288b1b7df5e5729"
NEW = "sha256:74004f0c07a08f2f49f2b2621cea7f0baaa6b14487eaf495b8548d2f37656597"
CART = "sha256:5c0db3ae43fa10cffe69889526639c51eabf11b266030fc5dc6f7d7d7f72a85e"
VM = "sha256:" + "5e" * 32


def running_digests(api: Any, app: str, env: str) -> list[str]:
    state = api.read(f"/v1/apps/{app}/envs/{env}")
    return sorted(i["artifact_digest"] for i in state["runtime"]["instances"])


@pytest.fixture(scope="module")
def apps(api: Any) -> str:
    """shop, cart and billing exist, with the builds whose digests the pods run, each released
    in prod (an environment with no release has no state to show the runtime in)."""
    for app, digests in (("shop", (OLD, NEW)), ("cart", (CART,)), ("billing", (VM,))):
        api.write("POST", "/v1/apps", {"name": app})
        for n, digest in enumerate(digests):
            build = {
                "build_id": f"{app}-{n}",
                "commit": f"{n:0>40}",
                "artifact": {"digest": digest},
            }
            api.write("POST", f"/v1/apps/{app}/builds", build | {"status": "succeeded"})
        api.write("POST", f"/v1/apps/{app}/envs/prod/deploys", {"build_id": f"{app}-0"})
    url: str = api.url
    return url


def test_pods_from_kubectl_output_become_the_environments_running_instances(
    cli: Any, api: Any, apps: str
) -> None:
    done = cli(
        "report", "kubernetes", "--env", "prod", "--from", str(FIXTURES / "rollout.json"),
        LEDGER_URL=apps,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "reported 4 instance(s) of 2 app(s) in prod as k8s:prod" in done.stderr
    assert running_digests(api, "shop", "prod") == sorted([NEW, OLD, OLD])
    assert running_digests(api, "cart", "prod") == [CART]


def test_a_static_report_names_the_instances_of_one_app(cli: Any, api: Any, apps: str) -> None:
    done = cli(
        "report", "static", "--env", "prod", "--app", "billing", "--digest", VM,
        "--instance", "vm-1", "--instance", "vm-2", LEDGER_URL=apps,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert running_digests(api, "billing", "prod") == [VM, VM]


def test_an_app_running_where_nothing_was_released_is_drifted_and_listed(
    cli: Any, api: Any, apps: str
) -> None:
    """Given billing was never deployed to staging, when a reporter sees it running there,
    then the environment's state exists with no release, its runtime is drifted, and
    GET /v1/drift lists it."""
    done = cli(
        "report", "static", "--env", "staging", "--app", "billing", "--digest", VM,
        "--instance", "vm-9", LEDGER_URL=apps,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    state = api.read("/v1/apps/billing/envs/staging")
    assert state["release"] is None
    assert state["runtime"]["status"] == "drifted"
    listed = api.read("/v1/drift", app="billing", env="staging")["items"]
    assert [(i["app"], i["env"], i["runtime"]["status"]) for i in listed] == [
        ("billing", "staging", "drifted")
    ]
