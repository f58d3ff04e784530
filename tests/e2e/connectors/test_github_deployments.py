"""GitHub's deployments over HTTP, on each backend: a deployment deploys the build of its commit
(waiting for it when the run has not completed yet), through the same gates as any deploy,
and its statuses complete or fail a canary rollout."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import Api
from .github import Repository, answered, build_id, example

pytestmark = pytest.mark.e2e
SHA = "3484a3fb816e0859fd6e1cea078d76385ff50625"  # the head commit of GitHub's example run
CANARY = {"ledger": {"strategy": "canary", "steps": [10, 50]}}
ALWAYS = {"name": "always", "cron": "* * * * *", "duration": "1h", "reason": "code freeze"}


def released(repo: Repository, deployment: dict[str, Any]) -> dict[str, Any]:
    """Send the deployment, which must make a release; returns the release."""
    recorded = answered(repo.send("deployment", deployment), 201, "recorded")
    [result] = recorded["results"]
    assert (result["op"], result["status"]) == ("deploy", 201)
    release: dict[str, Any] = result["result"]["release"]
    return release


def test_a_deployment_deploys_the_build_of_its_commit(api: Api) -> None:
    repo = Repository.new(api)
    run = repo.run()
    answered(repo.send("workflow_run", run), 201, "recorded")
    deployment = repo.deployment(SHA)
    release = released(repo, deployment)
    assert release == repo.release()
    assert (release["version"], release["build_id"], release["commit"]) == (1, build_id(run), SHA)
    assert release["description"] == f"GitHub deployment {deployment['deployment']['id']} of master"
    [item] = repo.history(kind="deploy")
    assert (item["via"], item["actor"], item["actor_kind"]) == (
        "github",
        "github-actions[bot]",
        "ci",
    )
    again = answered(repo.send("deployment", deployment), 202, "ignored")  # another delivery id
    assert again["detail"].endswith("made release v1 of " + f"{repo.app}/staging already")


def test_a_person_deploys_to_a_protected_environment_through_github_only_as_ci_may(
    api: Api,
) -> None:
    repo = Repository.new(api)
    answered(repo.send("workflow_run", repo.run()), 201, "recorded")
    by_person = repo.ours(example("deployment"))  # Codertocat deploys to production
    by_person["deployment"]["sha"] = SHA
    refused = answered(repo.send("deployment", by_person), 403, "refused")
    assert refused["results"][0]["problem"]["status"] == 403
    assert repo.release("production") is None and repo.counts()["refused"] == 1


def test_a_deployment_before_its_build_waits_and_deploys_once_the_build_is_recorded(
    api: Api,
) -> None:
    repo = Repository.new(api)
    deployment = repo.deployment(SHA)
    waiting = answered(repo.send("deployment", deployment), 202, "waiting")
    assert waiting["detail"] == f"waits for a build of commit {SHA} of {repo.app}"
    [listed] = repo.deliveries(outcome="waiting")
    assert (listed["event"], listed["env"]) == ("deployment.created", "staging")
    failed = repo.run(conclusion="failure")
    answered(repo.send("workflow_run", failed), 201, "recorded")  # no build to deploy
    assert repo.release() is None and repo.counts()["waiting"] == 1
    rerun = repo.run(id=failed["workflow_run"]["id"], run_attempt=2)
    answered(repo.send("workflow_run", rerun), 201, "recorded")
    release = repo.release()
    assert release is not None and release["build_id"] == build_id(rerun)
    [deploy] = repo.history(kind="deploy")
    assert (deploy["via"], deploy["actor"]) == ("github", "github-actions[bot]")
    assert repo.deliveries(outcome="waiting") == []
    assert [d["event"] for d in repo.deliveries(outcome="recorded")][-1] == "deployment.created"
    counts = repo.counts()
    assert (counts["received"], counts["recorded"], counts["waiting"]) == (3, 3, 0)


def test_deployment_statuses_complete_or_fail_a_canary_rollout(api: Api) -> None:
    repo = Repository.new(api)
    answered(repo.send("workflow_run", repo.run()), 201, "recorded")
    first = repo.deployment(SHA, payload=CANARY)
    assert released(repo, first)["status"] == "rolling_out"
    in_progress = repo.status(first, "in_progress", example="deployment_status.gh-pages")
    answered(repo.send("deployment_status", in_progress), 202, "ignored")
    completed = answered(
        repo.send("deployment_status", repo.status(first, "success")), 201, "recorded"
    )
    assert completed["results"][0]["op"] == "progress_rollout"
    assert repo.release() | {"created_at": None} == repo.release() | {
        "version": 1, "status": "succeeded", "rollout_percent": 100, "created_at": None,
    }  # fmt: skip
    second = repo.deployment(SHA, payload=CANARY)
    assert released(repo, second)["version"] == 2
    answered(repo.send("deployment_status", repo.status(second, "failure")), 201, "recorded")
    release = repo.release(version=2)
    assert release is not None and release["status"] == "failed"
    [ended, _] = repo.history(kind="rollout")
    assert (ended["via"], ended["actor"], ended["actor_kind"]) == (
        "github",
        "github-actions[bot]",
        "ci",
    )
    inactive = answered(
        repo.send("deployment_status", repo.status(first, "inactive")), 202, "ignored"
    )
    assert "only success, failure and error end a rollout" in inactive["detail"]


def test_success_of_a_deployment_that_rolled_out_at_once_changes_nothing(api: Api) -> None:
    repo = Repository.new(api)
    answered(repo.send("workflow_run", repo.run()), 201, "recorded")
    deployment = repo.deployment(SHA)
    assert released(repo, deployment)["status"] == "succeeded"
    success = answered(
        repo.send("deployment_status", repo.status(deployment, "success")), 202, "ignored"
    )
    assert (
        success["detail"] == f"release v1 of {repo.app}/staging is succeeded: nothing to complete"
    )
    failure = repo.send("deployment_status", repo.status(deployment, "failure"))
    assert "not rolling out" in answered(failure, 409, "refused")["detail"]  # listed as refused
    unknown = repo.status(repo.deployment(SHA), "success")  # a deployment never received
    assert (
        "made no release"
        in answered(repo.send("deployment_status", unknown), 202, "ignored")["detail"]
    )
    assert repo.history(kind="rollout") == []


def test_a_freeze_window_refuses_a_deployment(api: Api) -> None:
    repo = Repository.new(api)
    policy = {"reason": "release freeze", "policy": {"freeze": [ALWAYS]}}
    api.write(
        "PUT",
        f"/v1/apps/{repo.app}/envs/staging/policy",
        policy,
        headers={"X-Ledger-Actor": "admin"},
    )
    answered(repo.send("workflow_run", repo.run()), 201, "recorded")
    refused = answered(repo.send("deployment", repo.deployment(SHA)), 423, "refused")
    [result] = refused["results"]
    assert (result["op"], result["status"], result["problem"]["gate"]) == ("deploy", 423, "freeze")
    assert [d["event"] for d in repo.deliveries(outcome="refused")] == ["deployment.created"]
    [denied] = repo.history(kind="denied")
    assert (denied["data"]["gate"], denied["via"]) == ("freeze", "github")
    assert repo.release() is None and repo.counts()["refused"] == 1
