"""Argo CD's notifications over HTTP, on each backend: a connector registered like an operator
does, and the bodies the release-ledger template renders from a real Application (tests/argocd.py)
posted with the secret argocd-notifications sends: deploys of the build Argo CD synced, what
runs, failed rollouts, and every refusal, replay and name the ledger cannot map."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest

from ...answers import Answer
from ...argocd import REVISION, application, body_of, synced
from ..conftest import Api

pytestmark = pytest.mark.e2e

CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
ALICE = {"X-Ledger-Actor": "alice"}
ALWAYS = {"name": "always", "cron": "* * * * *", "duration": "1h", "reason": "code freeze"}


class ArgoCD:
    """A connector of kind argocd, and the Argo CD that sends it notifications."""

    def __init__(self, api: Api, name: str, mapping: dict[str, Any] | None = None) -> None:
        body = {"kind": "argocd", "name": name, "mapping": mapping or {}}
        created = api.request("POST", "/v1/connectors", body)
        assert created.status == 201, api.explain(created)
        self.api, self.name = api, name
        self.secret: str = created.json["secret"]
        self.path = urlparse(created.json["receiver_url"]).path
        assert self.path == f"/v1/connectors/{name}/events"

    def send(self, app: dict[str, Any], secret: str | None = None) -> Answer:
        """What argocd-notifications' webhook service posts for the Application."""
        headers = {"Authorization": f"Bearer {secret or self.secret}"}
        return self.api.request("POST", self.path, body_of(app), headers=headers)

    def deliveries(self, outcome: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api.read(
            f"/v1/connectors/{self.name}/deliveries", outcome=outcome
        )["items"]
        return items

    def counts(self) -> dict[str, int]:
        listed = self.api.read("/v1/connectors")["connectors"]
        [mine] = [c for c in listed if c["name"] == self.name]
        counts: dict[str, int] = mine["counts"]
        return counts


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def commit(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def app_with_builds(
    api: Api, app: str, *builds: str, commits: dict[str, str] | None = None
) -> None:
    """``app`` with succeeded builds, each of its own artifact (and commit, unless given)."""
    api.write("POST", "/v1/apps", {"name": app})
    for build in builds:
        facts = {
            "build_id": build,
            "commit": (commits or {}).get(build, commit(f"{app}-{build}")),
            "artifact": {"digest": digest(f"{app}-{build}")},
            "status": "succeeded",
        }
        api.write("POST", f"/v1/apps/{app}/builds", facts, headers=CI)


def placed(app: str, env: str = "staging") -> dict[str, str]:
    """The labels that name the ledger's app and environment of an Application."""
    return {"ledger.release/app": app, "ledger.release/env": env}


def image(app: str, build: str) -> str:
    return f"ghcr.io/acme/{app}:{build}@{digest(f'{app}-{build}')}"


def state(api: Api, app: str, env: str = "staging") -> dict[str, Any]:
    found: dict[str, Any] = api.read(f"/v1/apps/{app}/envs/{env}")
    return found


def head(api: Api) -> int:
    """The position of the newest event (refusals included, which no answer tells)."""
    newest = api.history(limit=1)
    return int(newest[0]["position"]) if newest else 0


def ops(answer: Answer) -> list[tuple[str, int]]:
    return [(r["op"], r["status"]) for r in answer.json["results"]]


def canary(api: Api, app: str, build: str, env: str = "staging") -> int:
    """A canary release of ``build`` rolling out, made through the API."""
    body = {"build_id": build, "strategy": "canary", "steps": [10, 50]}
    release = api.write("POST", f"/v1/apps/{app}/envs/{env}/deploys", body, headers=CI)["release"]
    assert release["status"] == "rolling_out"
    version: int = release["version"]
    return version


def test_a_deploy_argocd_reports_releases_the_build_of_its_image_and_shows_what_runs(
    api: Api,
) -> None:
    app_with_builds(api, "shop", "b1")
    argocd = ArgoCD(api, "argocd-shop")
    images = ["nginx:latest", image("shop", "b1")]

    answer = argocd.send(synced(application(), images=images, labels=placed("shop")))

    assert answer.status == 201, api.explain(answer)
    assert answer.json["outcome"] == "recorded"
    assert ops(answer) == [("deploy", 201), ("report_runtime", 201)]
    now = state(api, "shop")
    assert (now["release"]["version"], now["release"]["build_id"]) == (1, "b1")
    runtime = now["runtime"]
    assert runtime["status"] == "in_sync", runtime
    assert [(i["id"], i["reporter"]) for i in runtime["instances"]] == [
        ("ghcr.io/acme/shop", "argocd:argocd-shop")
    ]
    [deploy] = api.history(app="shop", kind="deploy")
    assert (deploy["via"], deploy["actor"], deploy["actor_kind"]) == (
        "argocd", "argocd:argocd-shop", "ci",
    )  # fmt: skip
    description = now["release"]["description"]
    assert "velero-test" in description and "foo@example.com" in description
    assert "https://argocd.example.com/applications/velero-test" in description


def test_a_deploy_of_an_image_without_digest_is_the_build_of_the_synced_commit_by_default_names(
    api: Api,
) -> None:
    app_with_builds(api, "velero-test", "v1", commits={"v1": REVISION})  # the fixture's names
    assert api.history(app="velero-test", kind="build")  # listed, long before Argo CD syncs
    argocd = ArgoCD(api, "argocd-velero")

    answer = argocd.send(synced(application()))  # images: nginx:latest

    assert answer.status == 201, api.explain(answer)
    assert ops(answer) == [("deploy", 201)]  # no digest: nothing to report as running
    release = state(api, "velero-test", "test-lla")["release"]
    assert (release["build_id"], release["commit"]) == ("v1", REVISION)


def test_a_delivery_argocd_sends_again_gets_the_first_answer_and_appends_once(api: Api) -> None:
    app_with_builds(api, "cart", "b1")
    argocd = ArgoCD(api, "argocd-cart")
    sent = synced(application(), images=[image("cart", "b1")], labels=placed("cart"))

    first = argocd.send(sent)
    again = argocd.send(sent)

    assert (first.status, again.status) == (201, 201), api.explain(again)
    assert again.json == first.json | {"replayed": True}
    assert len(api.history(app="cart", kind="deploy")) == 1
    assert state(api, "cart")["release"]["version"] == 1
    assert argocd.counts()["duplicates"] == 1 and argocd.counts()["recorded"] == 1


def test_a_wrong_or_missing_secret_is_refused_and_recorded_as_denied(api: Api) -> None:
    app_with_builds(api, "auth", "b1")
    argocd = ArgoCD(api, "argocd-auth", {"app": "auth"})
    sent = body_of(synced(application(), images=[image("auth", "b1")], labels=placed("auth")))

    wrong = argocd.send(synced(application(), images=[image("auth", "b1")]), secret="x" * 40)
    bare = api.request("POST", argocd.path, sent)

    for answer in (wrong, bare):
        answer.problem(401)
    [denied] = api.history(kind="denied", app="auth")  # once, however many were refused
    assert denied["data"]["gate"] == "signature" and "argocd-auth" in denied["data"]["detail"]
    assert api.history(app="auth", kind="deploy") == []
    assert len(argocd.deliveries("rejected")) == 2
    assert argocd.counts()["rejected"] == 2 and argocd.counts()["recorded"] == 0


def test_an_application_the_mapping_cannot_name_is_unmapped_and_listed(api: Api) -> None:
    argocd = ArgoCD(api, "argocd-unmapped", {"app_label": "team.example.com/app"})
    before = head(api)

    answer = argocd.send(synced(application()))

    assert answer.status == 202, api.explain(answer)
    assert answer.json["outcome"] == "unmapped"
    [listed] = argocd.deliveries("unmapped")
    assert "'team.example.com/app'" in listed["detail"] and "velero-test" in listed["detail"]
    assert listed["event"] == "deployed" and listed["env"] == "test-lla"
    api.assert_nothing_appended(before)


def test_a_build_the_ledger_does_not_know_is_unmapped_naming_the_revision(api: Api) -> None:
    app_with_builds(api, "search", "b1")
    argocd = ArgoCD(api, "argocd-search")
    before = head(api)

    answer = argocd.send(synced(application(), images=["nginx:latest"], labels=placed("search")))

    assert answer.status == 202 and answer.json["outcome"] == "unmapped", api.explain(answer)
    [listed] = argocd.deliveries("unmapped")
    assert (listed["app"], listed["env"]) == ("search", "staging")
    assert REVISION in listed["detail"] and "nginx:latest" in listed["detail"]
    api.assert_nothing_appended(before)


def test_a_late_notification_of_an_older_sync_leaves_the_newer_release(api: Api) -> None:
    app_with_builds(api, "pay", "b1", "b2")
    argocd = ArgoCD(api, "argocd-pay")
    newer = synced(application(), images=[image("pay", "b2")], labels=placed("pay"))
    assert argocd.send(newer).status == 201
    earlier = (datetime.now(UTC) - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    older = synced(
        application(), revision=commit("pay-b1"), images=[image("pay", "b1")],
        finished_at=earlier, labels=placed("pay"),
    )  # fmt: skip

    late = argocd.send(older)

    assert late.status == 202 and late.json["outcome"] == "ignored", api.explain(late)
    assert "no longer what runs" in late.json["detail"]
    assert state(api, "pay")["release"]["build_id"] == "b2"


def test_a_failed_sync_of_the_canary_rolling_out_marks_it_failed(api: Api) -> None:
    app_with_builds(api, "feed", "b1", "b2")
    version = canary(api, "feed", "b1")
    argocd = ArgoCD(api, "argocd-feed")
    failing = synced(
        application(), revision=commit("feed-b1"), phase="Failed", labels=placed("feed"),
        message='one or more objects failed to apply: "feed" <deployment>',
    )  # fmt: skip

    answer = argocd.send(failing)

    assert answer.status == 201, api.explain(answer)
    assert ops(answer) == [("progress_rollout", 201)]
    release = api.read(f"/v1/apps/feed/envs/staging/releases/{version}")
    assert release["status"] == "failed"
    [rollout] = api.history(app="feed", kind="rollout")
    assert rollout["via"] == "argocd" and '"feed" <deployment>' in rollout["reason"]


def test_a_failure_argocd_reports_of_what_is_not_rolling_out_is_ignored(api: Api) -> None:
    app_with_builds(api, "news", "b1", "b2")
    canary(api, "news", "b1")
    argocd = ArgoCD(api, "argocd-news")
    before = head(api)
    other = synced(
        application(), revision=commit("news-b2"), images=[image("news", "b2")],
        health="Degraded", labels=placed("news"),
    )  # fmt: skip

    answer = argocd.send(other)

    assert answer.status == 202 and answer.json["outcome"] == "ignored", api.explain(answer)
    assert "pins commit" in answer.json["detail"]
    nowhere = synced(application(), phase="Error", labels=placed("news", "qa"))
    ignored = argocd.send(nowhere)
    assert (
        ignored.status == 202
        and "no release of news is rolling out in qa" in (ignored.json["detail"])
    )
    api.assert_nothing_appended(before)


def test_a_degraded_application_fails_the_rollout_of_the_release_it_runs(api: Api) -> None:
    app_with_builds(api, "mail", "b1")
    version = canary(api, "mail", "b1")
    argocd = ArgoCD(api, "argocd-mail")
    degraded = synced(
        application(), revision="0" * 40, images=[image("mail", "b1")], health="Degraded",
        labels=placed("mail"),
    )  # fmt: skip

    answer = argocd.send(degraded)

    assert answer.status == 201, api.explain(answer)
    assert api.read(f"/v1/apps/mail/envs/staging/releases/{version}")["status"] == "failed"


def test_a_freeze_window_refuses_the_deploy_argocd_reports(api: Api) -> None:
    app_with_builds(api, "docs", "b1")
    policy = {"reason": "launch week", "policy": {"freeze": [ALWAYS]}}
    api.write("PUT", "/v1/apps/docs/envs/staging/policy", policy, headers=ALICE)
    argocd = ArgoCD(api, "argocd-docs")

    answer = argocd.send(synced(application(), images=[image("docs", "b1")], labels=placed("docs")))

    assert answer.status == 423, api.explain(answer)
    assert answer.json["outcome"] == "refused"
    [(op, status)] = ops(answer)
    assert (op, status) == ("deploy", 423)
    assert answer.json["results"][0]["problem"]["gate"] == "freeze"
    assert [d["delivery_id"] for d in argocd.deliveries("refused")] == [answer.json["delivery_id"]]
    [denied] = api.history(app="docs", kind="denied")
    assert (denied["data"]["gate"], denied["via"]) == ("freeze", "argocd")
    assert api.history(app="docs", kind="deploy") == []


def test_a_notification_of_another_trigger_is_ignored_saying_what_argocd_saw(api: Api) -> None:
    app_with_builds(api, "blog", "b1")
    argocd = ArgoCD(api, "argocd-blog")
    before = head(api)
    running = synced(
        application(), images=[image("blog", "b1")], phase="Running", health="Progressing",
        labels=placed("blog"),
    )  # fmt: skip

    answer = argocd.send(running)  # e.g. the template sent by the catalog's on-sync-running

    assert answer.status == 202 and answer.json["outcome"] == "ignored", api.explain(answer)
    assert "'other' (phase Running, health Progressing)" in answer.json["detail"]
    api.assert_nothing_appended(before)
