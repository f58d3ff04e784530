"""Pods, as `kubectl get pods -o json` prints them, become a runtime report: one instance per
pod, by app label, with the app container's digest; what cannot be reported is skipped with
its reason. Each fixture tells one story of a real cluster (tests/fixtures/kubernetes/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.reporters.kubernetes import Reading, image_digest, parse_pod_list, read_pods

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kubernetes"
OLD = "sha256:3d8288cdd092d7461314991c68b757faeb53ad4aa97fa0fe7288b1b7df5e5729"
NEW = "sha256:74004f0c07a08f2f49f2b2621cea7f0baaa6b14487eaf495b8548d2f37656597"
BY_HAND = "sha256:230a6628d4d9a566522d58b5f053357fb9b3beda52a5150122211e7d176a8ccb"
CART = "sha256:5c0db3ae43fa10cffe69889526639c51eabf11b266030fc5dc6f7d7d7f72a85e"


def reading(story: str, app_label: str = "app.kubernetes.io/name") -> Reading:
    pods = parse_pod_list((FIXTURES / f"{story}.json").read_text())
    return read_pods(pods, env="prod", reporter="k8s:prod-eu", app_label=app_label)


def digests(made: Reading) -> dict[str, list[str]]:
    """Each app's instances' digests, by instance id order."""
    return {w.app: [i.artifact_digest for i in w.instances] for w in made.report.workloads}


def skipped(made: Reading) -> dict[str, str]:
    return {s.pod: s.reason for s in made.skipped}


def test_a_rollout_in_the_middle_reports_both_replica_sets_digests() -> None:
    made = reading("rollout")
    assert digests(made) == {"cart": [CART], "shop": [NEW, OLD, OLD]}
    shop = made.report.workloads[1]
    assert [i.id for i in shop.instances] == [
        "shop-5f6b8c9d7-ghi56",
        "shop-7d9c5b8f4-abc12",
        "shop-7d9c5b8f4-def34",
    ]
    assert shop.instances[0].started_at == "2026-12-06T14:58:02Z"
    assert made.skipped == ()
    assert made.report.complete is True
    assert made.report.env == "prod" and made.report.reporter == "k8s:prod-eu"


def test_a_crash_looping_pod_counts_with_its_last_digest_and_one_never_started_is_skipped() -> None:
    made = reading("crashloop")
    assert digests(made) == {"shop": [NEW]}
    assert made.report.workloads[0].instances[0].started_at == "2026-12-06T14:58:00Z"
    assert skipped(made) == {"shop-5f6b8c9d7-pqr12": "container 'shop' has no image digest yet"}


def test_an_image_pushed_by_hand_is_reported_with_its_digest_as_it_runs() -> None:
    assert digests(reading("hand-pushed")) == {"shop": [BY_HAND]}


def test_only_the_app_container_counts_never_init_containers_or_sidecars() -> None:
    made = reading("sidecars")
    # shop: named like the app, after istio-proxy; cart: no container named "cart", so the
    # first container ("server"), though the log shipper's status comes first
    assert digests(made) == {"cart": [CART], "shop": [NEW]}
    assert made.skipped == ()


def test_pods_that_do_not_run_are_skipped_and_say_why() -> None:
    made = reading("not-running")
    assert made.report.workloads == ()
    assert skipped(made) == {
        "shop-6a7b8c9d0-bcd12": "container 'shop' has no image digest yet",
        "shop-6a7b8c9d0-efg34": "container 'shop' has no image digest yet",
        "shop-nightly-29001234-hij56": "succeeded: runs no more",
        "debug-shell": "no app.kubernetes.io/name label",
    }


def test_another_label_names_the_apps() -> None:
    made = reading("not-running", app_label="run")
    assert [w.app for w in made.report.workloads] == ["debug-shell"]


def test_a_label_value_that_is_no_app_name_is_skipped() -> None:
    pods = parse_pod_list((FIXTURES / "hand-pushed.json").read_text())
    pods[0]["metadata"]["labels"]["app.kubernetes.io/name"] = "Shop_Main"
    made = read_pods(pods, env="prod", reporter="k8s:prod")
    assert list(skipped(made).values()) == [
        "label app.kubernetes.io/name='Shop_Main' is not an app name of the ledger"
    ]


def test_the_report_body_is_the_endpoints_contract() -> None:
    body = reading("hand-pushed").report.body()
    assert set(body) == {"reporter", "env", "observed_at", "complete", "workloads"}
    assert body["workloads"] == [
        {
            "app": "shop",
            "instances": [
                {
                    "id": "shop-84b7c6d5f-stu34",
                    "artifact_digest": BY_HAND,
                    "started_at": "2026-12-06T11:20:31Z",
                }
            ],
        }
    ]


HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "image_id",
    [
        f"docker-pullable://registry.example.com/shop@sha256:{HEX}",
        f"docker.io/library/nginx@sha256:{HEX}",
        f"sha256:{HEX}",
        f"docker://sha256:{HEX}",
    ],
    ids=["docker", "containerd", "bare", "docker-image-id"],
)
def test_every_runtimes_image_id_becomes_one_digest(image_id: str) -> None:
    assert image_digest(image_id) == f"sha256:{HEX}"


@pytest.mark.parametrize("image_id", ["", "registry.example.com/shop:42", f"sha256:{HEX[:-1]}"])
def test_an_image_id_without_a_whole_digest_is_none(image_id: str) -> None:
    assert image_digest(image_id) is None


def test_what_is_not_a_pod_list_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        parse_pod_list("pods: []")
    with pytest.raises(ValueError, match="not a PodList"):
        parse_pod_list('{"kind": "Deployment"}')
