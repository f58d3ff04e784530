"""The GitHub receiver over HTTP, on each backend: a connector registered for a repository
answers GitHub's ping, refuses what its secret did not sign (and records the refusal), answers
a delivery GitHub sends again as it answered it first without recording it twice, and lists
what it cannot map."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from ..conftest import Api
from .github import SECRET, Repository, answered, example, signature

pytestmark = pytest.mark.e2e


def test_a_registered_connector_answers_the_ping_with_pong(api: Api) -> None:
    repo = Repository.new(api)
    assert repo.registered["kind"] == "github" and repo.registered["secret"] == SECRET
    assert repo.registered["receiver_url"].endswith(repo.path)
    pong = answered(repo.send("ping", repo.ours(example("ping"))), 202, "ignored")
    assert pong["detail"] == "pong"
    [delivery] = repo.deliveries()
    assert (delivery["event"], delivery["outcome"]) == ("ping", "ignored")
    assert repo.counts() == {
        "received": 1, "recorded": 0, "duplicates": 0, "waiting": 0, "ignored": 1,
        "unmapped": 0, "refused": 0, "rejected": 0,
    }  # fmt: skip


def test_an_event_the_ledger_does_not_record_is_ignored_by_name(api: Api) -> None:
    repo = Repository.new(api)
    ignored = answered(repo.send("star", repo.ours(example("ping"))), 202, "ignored")
    assert "'star'" in ignored["detail"]
    assert repo.deliveries(outcome="ignored")[0]["event"] == "star"


def test_a_delivery_signed_with_another_secret_is_refused_and_recorded_as_denied(
    api: Api,
) -> None:
    repo = Repository.new(api)
    forged = repo.send("workflow_run", repo.run(), secret="not-the-secret-of-this-hook")
    problem = forged.problem(401)
    assert "X-Hub-Signature-256" in problem["detail"]
    unsigned = api.request(
        "POST", repo.path, raw=b"{}",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "ping",
                 "X-GitHub-Delivery": "d-1"},
    )  # fmt: skip
    assert "missing" in unsigned.problem(401)["detail"]
    sha1 = "sha1=" + hmac.new(SECRET.encode(), b"{}", hashlib.sha1).hexdigest()
    legacy = api.request(
        "POST", repo.path, raw=b"{}",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "ping",
                 "X-GitHub-Delivery": "d-2", "X-Hub-Signature": sha1},
    )  # fmt: skip
    assert "X-Hub-Signature-256 is missing" in legacy.problem(401)["detail"]  # SHA-1 is not enough
    denied = [i for i in api.history(kind="denied", limit=100) if repo.connector in i["summary"]]
    assert len(denied) == 1, denied  # at most one a minute per connector
    assert denied[0]["data"]["gate"] == "signature" and denied[0]["via"] == "github"
    assert repo.counts()["rejected"] == 3 and repo.counts()["recorded"] == 0
    assert repo.history(kind="build") == []


def test_a_delivery_sent_again_gets_its_first_answer_and_is_recorded_once(api: Api) -> None:
    repo = Repository.new(api)
    run = repo.run()
    first = answered(repo.send("workflow_run", run, delivery="d-7f3a"), 201, "recorded")
    again = answered(repo.send("workflow_run", run, delivery="d-7f3a"), 201, "recorded")
    assert again == first | {"replayed": True}
    deployment = repo.deployment(run["workflow_run"]["head_sha"])
    made = answered(repo.send("deployment", deployment, delivery="d-9c1e"), 201, "recorded")
    assert answered(repo.send("deployment", deployment, delivery="d-9c1e"), 201, "recorded") == (
        made | {"replayed": True}
    )
    assert [i["kind"] for i in repo.history()] == ["deploy", "build", "app"]
    counts = repo.counts()
    assert (counts["received"], counts["recorded"], counts["duplicates"]) == (4, 2, 2)


def test_names_the_ledger_cannot_map_are_listed_as_unmapped(api: Api) -> None:
    repo = Repository.new(api, envs={"github-pages": ""})
    run = repo.run()
    run["repository"]["name"] = "Octo_Repo"  # a valid repository name, no valid app name
    unmapped = answered(repo.send("workflow_run", run), 202, "unmapped")
    assert "'octo-org/" in unmapped["detail"] and "mapping" in unmapped["detail"]
    to_pages = repo.deployment("f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "github-pages")
    assert (
        "'github-pages'" in answered(repo.send("deployment", to_pages), 202, "unmapped")["detail"]
    )
    elsewhere = Repository.new(api, create_app=False)
    missing = answered(elsewhere.send("workflow_run", elsewhere.run()), 202, "unmapped")
    assert missing["detail"] == (
        f"app '{elsewhere.app}' does not exist in the ledger; create it or map the repository"
    )
    listed = repo.deliveries(outcome="unmapped")
    assert [(d["event"], d.get("env")) for d in listed] == [
        ("deployment.created", None), ("workflow_run.completed", None),
    ]  # fmt: skip
    assert elsewhere.deliveries(outcome="unmapped")[0]["app"] == elsewhere.app
    assert repo.counts()["unmapped"] == 2 and repo.history(kind="build") == []


def test_a_repository_is_renamed_to_its_app_by_the_mapping(api: Api) -> None:
    repo = Repository.new(api)
    renamed = Repository.new(api, create_app=False, apps={"octo-org/Octo_Repo": repo.app})
    run = renamed.run()
    run["repository"] |= {"name": "Octo_Repo", "full_name": "octo-org/Octo_Repo"}
    answered(renamed.send("workflow_run", run), 201, "recorded")
    assert (
        repo.build(f"gh-{run['workflow_run']['id']}-1")["commit"] == run["workflow_run"]["head_sha"]
    )


def test_a_webhook_that_sends_forms_is_told_to_send_json(api: Api) -> None:
    repo = Repository.new(api)
    body = b"payload=" + json.dumps(repo.ours(example("ping"))).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded", "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "d-form", "X-Hub-Signature-256": signature(body, SECRET),
    }  # fmt: skip
    problem = api.request("POST", repo.path, raw=body, headers=headers).problem(400)
    assert "application/json" in problem["detail"]
    assert repo.deliveries() == [] and repo.counts()["received"] == 0
