"""GitHub's workflow runs and releases over HTTP, on each backend: a completed run is a build of
its head commit (one per run attempt, whatever the workflows on that commit), a build the run
recorded itself stands, and a published release is evidence on its commit's build."""

from __future__ import annotations

import pytest

from ..conftest import Api
from .github import Repository, answered, build_id, example

pytestmark = pytest.mark.e2e
SHA = "3484a3fb816e0859fd6e1cea078d76385ff50625"  # the head commit of GitHub's example run
IMAGE = "sha256:" + "5d0c" * 16


def test_a_completed_workflow_run_is_a_build_of_its_head_commit(api: Api) -> None:
    repo = Repository.new(api)
    for action in ("requested", "in_progress"):
        answer = repo.send("workflow_run", repo.run(action, conclusion=None))
        assert "only completed runs are builds" in answered(answer, 202, "ignored")["detail"]
    run = repo.run()
    recorded = answered(repo.send("workflow_run", run), 201, "recorded")
    [result] = recorded["results"]
    assert (result["op"], result["status"]) == ("record_build", 201)
    build = repo.build(build_id(run))
    assert build | {"recorded_at": None} == {
        "app": repo.app, "build_id": f"gh-{run['workflow_run']['id']}-1", "commit": SHA,
        "status": "succeeded", "artifact_digest": f"git:{SHA}", "recorded_at": None,
        "recorded_by": "Codertocat", "branch": "master",
        "pipeline": {
            "name": "test", "run_id": f"{run['workflow_run']['id']}/1",
            "url": run["workflow_run"]["html_url"],
        },
    }  # fmt: skip
    [item] = repo.history(kind="build")
    assert (item["via"], item["actor"], item["actor_kind"]) == ("github", "Codertocat", "ci")
    assert [d["event"] for d in repo.deliveries()] == [
        "workflow_run.completed", "workflow_run.in_progress", "workflow_run.requested",
    ]  # fmt: skip


def test_each_run_attempt_and_each_workflow_on_a_commit_is_a_build_of_its_own(api: Api) -> None:
    repo = Repository.new(api)
    first = repo.run(conclusion="failure")
    rerun = repo.run(id=first["workflow_run"]["id"], run_attempt=2)
    other = repo.run(name="lint", path=".github/workflows/lint.yml")
    for run in (first, rerun, other):
        answered(repo.send("workflow_run", run), 201, "recorded")
    builds = [repo.build(build_id(run)) for run in (first, rerun, other)]
    assert [b["build_id"] for b in builds] == [
        f"gh-{first['workflow_run']['id']}-1", f"gh-{first['workflow_run']['id']}-2",
        f"gh-{other['workflow_run']['id']}-1",
    ]  # fmt: skip
    assert [(b["status"], b["pipeline"]["name"]) for b in builds] == [
        ("failed", "test"), ("succeeded", "test"), ("succeeded", "lint"),
    ]  # fmt: skip
    assert {b["commit"] for b in builds} == {SHA}
    skipped = answered(repo.send("workflow_run", repo.run(conclusion="skipped")), 202, "ignored")
    assert "nothing was built" in skipped["detail"]


def test_only_the_workflows_the_mapping_names_are_builds(api: Api) -> None:
    repo = Repository.new(api, workflows=[".github/workflows/release.yml"])
    ignored = answered(repo.send("workflow_run", repo.run()), 202, "ignored")
    assert ignored["detail"] == "workflow 'test' is not one of the connector's workflows"
    release = repo.run(name="Release", path=".github/workflows/release.yml")
    answered(repo.send("workflow_run", release), 201, "recorded")
    assert [i["data"]["build_id"] for i in repo.history(kind="build")] == [build_id(release)]


def test_a_build_the_run_recorded_itself_stands_with_its_artifact(api: Api) -> None:
    """A workflow's last step records its build with the image it pushed, under the id the
    connector gives the run: the completed run then records nothing, and deploys find it."""
    repo = Repository.new(api)
    run = repo.run()
    pipeline = {"name": "test", "run_id": str(run["workflow_run"]["id"])}
    own = {"build_id": build_id(run), "commit": SHA, "artifact": {"digest": IMAGE},
           "status": "succeeded", "pipeline": pipeline}  # fmt: skip
    ci = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
    api.write("POST", f"/v1/apps/{repo.app}/builds", own, headers=ci)
    stands = answered(repo.send("workflow_run", run), 200, "recorded")
    assert "results" not in stands and "position" not in stands  # nothing appended
    assert repo.build(build_id(run))["artifact_digest"] == IMAGE
    answered(repo.send("deployment", repo.deployment(SHA)), 201, "recorded")
    release = repo.release()
    assert release is not None and release["build_id"] == build_id(run)
    assert len(repo.history(kind="build")) == 1


def test_a_published_release_of_a_built_commit_is_evidence_on_its_build(api: Api) -> None:
    repo = Repository.new(api)
    run = repo.run()
    answered(repo.send("workflow_run", run), 201, "recorded")
    published = repo.ours(example("release.published"))
    ignored = answered(repo.send("release", published), 202, "ignored")
    assert "targets 'master'" in ignored["detail"]  # a branch names no build
    published["release"]["target_commitish"] = SHA
    answered(repo.send("release", published), 201, "recorded")
    [evidence] = repo.build(build_id(run))["evidence"]
    assert evidence | {"recorded_at": None} == {
        "type": "release", "status": "passed", "actor": "Codertocat", "recorded_at": None,
        "url": "https://github.com/Codertocat/Hello-World/releases/tag/0.0.1", "summary": "0.0.1",
    }  # fmt: skip
    published["action"] = "edited"
    assert "only publishing" in answered(repo.send("release", published), 202, "ignored")["detail"]
