"""The GitHub action's recording step against a real server, run as a runner runs it in a
simulated GitHub Actions job with the `ledger` command of this checkout: a build recorded,
deployed, repeated, made to wait for approval, and refused."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from ..github_action import StepRun, run_step
from .conftest import ROOT
from .write_commands import COMMIT, digest_of, make_app, outside_ci

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def backend() -> str:
    """The CLI is a client of the HTTP API: what it does is the same on either store (each
    store is tested through the API itself), so these run on SQLite."""
    return "sqlite"


def runner(workdir: Path) -> dict[str, str]:
    """The outputs of the install step: a `ledger` that runs this checkout's CLI."""
    ledger = workdir / "ledger"
    ledger.write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" -m ledger.cli.main "$@"\n')
    ledger.chmod(0o755)
    return {"ledger": str(ledger), "python": sys.executable}


def github_job(run_id: str) -> dict[str, str]:
    return outside_ci() | {
        "PYTHONPATH": str(ROOT),
        "GITHUB_ACTIONS": "true",
        "GITHUB_RUN_ID": run_id,
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKFLOW": "ship",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_SHA": COMMIT,
        "GITHUB_REF_NAME": "main",
        "GITHUB_WORKSPACE": str(ROOT),  # the commit is not in it: no commit time is read
    }


def record(api: Any, run_id: str, workdir: Path, **inputs: str) -> StepRun:
    return run_step(
        "ledger", {"ledger-url": api.url} | inputs, environ=github_job(run_id), workdir=workdir,
        earlier={"install": runner(workdir)},
    )  # fmt: skip


def test_a_build_recorded_and_deployed_by_the_action(api: Any, tmp_path: Path) -> None:
    make_app(api, "actioned")
    digest = digest_of("image-1")
    built = record(api, "9001", tmp_path, command="build", app="actioned", digest=digest)
    assert built.returncode == 0, built.stderr
    build_id = built.outputs["build-id"]
    assert build_id == digest[7:19] and built.outputs["replayed"] == "false"
    recorded = api.read(f"/v1/apps/actioned/builds/{build_id}")
    assert recorded["pipeline"]["run_id"] == "9001" and recorded["branch"] == "main"

    inputs = {"command": "deploy", "app": "actioned", "env": "prod", "build-id": build_id}
    deployed = record(api, "9001", tmp_path, **inputs, canary="true", steps="10,100")
    assert deployed.returncode == 0, deployed.stderr
    assert (deployed.outputs["release"], deployed.outputs["build-id"]) == ("1", build_id)
    again = record(api, "9001", tmp_path, **inputs, canary="true", steps="10,100")
    assert again.outputs["replayed"] == "true" and again.outputs["release"] == "1"
    release = api.read("/v1/apps/actioned/envs/prod")["release"]
    assert (release["version"], release["rollout_percent"]) == (1, 10)


def test_a_deploy_that_waits_for_approval_sets_the_request_id(api: Any, tmp_path: Path) -> None:
    make_app(api, "action-approved", "b1")
    body = {"reason": "two eyes", "policy": {"approvals": {"required": 1}}}
    path = "/v1/apps/action-approved/envs/prod/policy"
    api.write("PUT", path, body, headers={"X-Ledger-Actor": "root"})
    inputs = {"command": "deploy", "app": "action-approved", "env": "prod", "build-id": "b1"}
    waits = record(api, "9002", tmp_path, **inputs)
    assert waits.returncode == 0, waits.stderr
    assert waits.outputs["release"] == "" and waits.outputs["build-id"] == "b1"
    [pending] = api.read("/v1/requests", app="action-approved")["items"]
    assert waits.outputs["request-id"] == pending["id"]


def test_a_refused_deploy_fails_the_step_with_the_reason(api: Any, tmp_path: Path) -> None:
    make_app(api, "action-refused")
    inputs = {"command": "deploy", "app": "action-refused", "env": "prod", "build-id": "b9"}
    refused = record(api, "9003", tmp_path, **inputs)
    assert refused.returncode == 1 and refused.outputs == {}
    assert refused.stderr.strip() == (
        "Error: Not found (HTTP 404): build 'b9' of app 'action-refused' was never recorded "
        "[fields: build_id]"
    )
