"""The write commands inside a CI run, as GitHub Actions and GitLab CI set its variables in the
command's environment: a build's pipeline facts come from them, every write carries the run id
as correlation id, and a command repeated in the same attempt of a run is recorded once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import Cli
from .write_commands import (
    COMMIT,
    SECRET,
    digest_of,
    env_of,
    make_app,
    one_line_error,
    outside_ci,
    said,
    state,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def backend() -> str:
    """The CLI is a client of the HTTP API: what it does is the same on either store (each
    store is tested through the API itself), so these run on SQLite."""
    return "sqlite"


REPLAYED = " (replayed)"


@pytest.fixture
def cli() -> Cli:
    return Cli(outside_ci())


def github(run_id: str, attempt: str = "1") -> dict[str, str]:
    """The variables GitHub Actions sets in a step of attempt ``attempt`` of run ``run_id``."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_RUN_ID": run_id,
        "GITHUB_RUN_ATTEMPT": attempt,
        "GITHUB_WORKFLOW": "deploy",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_SHA": COMMIT,
        "GITHUB_REF_NAME": "main",
    }


def gitlab(pipeline_id: str, job_id: str = "501") -> dict[str, str]:
    """The variables GitLab CI sets in job ``job_id`` of pipeline ``pipeline_id``."""
    return {
        "GITLAB_CI": "true",
        "CI_PIPELINE_ID": pipeline_id,
        "CI_JOB_ID": job_id,
        "CI_PIPELINE_URL": f"https://gitlab.example/acme/shop/-/pipelines/{pipeline_id}",
        "CI_PROJECT_PATH": "acme/shop",
        "CI_COMMIT_SHA": COMMIT,
        "CI_COMMIT_REF_NAME": "release-7",
        "CI_COMMIT_TIMESTAMP": "2030-05-07T14:03:00+02:00",
    }


def correlated(api: Any, app: str, run_id: str) -> list[str]:
    """The kinds of the changes of ``app`` recorded with the run's id as correlation id."""
    return [i["kind"] for i in reversed(api.history(app=app, correlation_id=run_id, limit=100))]


# --------------------------------------------------------------------------------------------
# Pipeline facts


def test_build_record_in_github_actions_takes_the_run_from_its_variables(
    cli: Cli, api: Any
) -> None:
    make_app(api, "gh-built")
    env = env_of(api) | github("7001")
    done = cli(
        "build", "record", "gh-built", "--digest", digest_of("b1"), "--build-id", "b1", **env
    )
    assert said(done)[0] == "recorded build b1 of gh-built (a1b2c3d, succeeded)"
    recorded = api.read("/v1/apps/gh-built/builds/b1")
    assert (recorded["commit"], recorded["branch"]) == (COMMIT, "main")
    assert recorded["pipeline"] == {
        "name": "deploy",
        "run_id": "7001",
        "url": "https://github.example/acme/shop/actions/runs/7001",
    }
    given = cli(
        "build", "record", "gh-built", "--digest", digest_of("b2"), "--build-id", "b2",
        "--branch", "hotfix", "--pipeline", "nightly", "--commit", "abcdef12", **env,
    )  # fmt: skip
    said(given)
    recorded = api.read("/v1/apps/gh-built/builds/b2")
    assert (recorded["commit"], recorded["branch"]) == ("abcdef12", "hotfix")  # options win
    assert recorded["pipeline"]["name"] == "nightly" and recorded["pipeline"]["run_id"] == "7001"
    assert correlated(api, "gh-built", "7001") == ["build", "build"]


def test_build_record_in_gitlab_ci_takes_the_pipeline_from_its_variables(
    cli: Cli, api: Any
) -> None:
    make_app(api, "gl-built")
    env = env_of(api) | gitlab("8001")
    said(cli("build", "record", "gl-built", "--digest", digest_of("b1"), "--build-id", "b1", **env))
    recorded = api.read("/v1/apps/gl-built/builds/b1")
    assert (recorded["commit"], recorded["branch"]) == (COMMIT, "release-7")
    assert recorded["pipeline"] == {
        "name": "acme/shop",
        "run_id": "8001",
        "url": "https://gitlab.example/acme/shop/-/pipelines/8001",
    }
    said(cli("deploy", "gl-built", "prod", "--build", "b1", **env))
    assert correlated(api, "gl-built", "8001") == ["build", "deploy"]


# --------------------------------------------------------------------------------------------
# Idempotency


def commands(app: str) -> list[tuple[str, ...]]:
    """Every write command, each a change of its own in ``app`` (with build b1 recorded)."""
    return [
        ("build", "record", app, "--digest", digest_of("b2"), "--build-id", "b2"),
        ("evidence", "add", app, "b2", "--type", "tests", "--status", "passed"),
        ("deploy", app, "prod", "--build", "b2", "--canary", "--steps", "10,100"),
        ("rollout", app, "prod", "1", "--complete"),
        ("config", "set", app, "prod", "TIMEOUT=30"),
        ("config", "unset", app, "prod", "TIMEOUT"),
        ("flag", "set", app, "prod", "dark-mode", "--on", "--percent", "5"),
        ("migration", "record", app, "prod", "--id", "m1", "--schema-version", "1", "--reversible"),
    ]


def test_each_command_repeated_in_a_github_run_is_recorded_once(cli: Cli, api: Any) -> None:
    app = make_app(api, "repeated", "b1")
    env = env_of(api) | github("7101")
    for args in commands(app):
        first = said(cli(*args, **env))
        recorded_up_to = int(first[-1].removeprefix("position "))
        again = said(cli(*args, **env))
        assert again == [first[0] + REPLAYED, first[1]], args
        api.assert_nothing_appended(recorded_up_to)
    assert len(api.read(f"/v1/apps/{app}/envs/prod/releases")["releases"]) == 3
    assert correlated(api, app, "7101").count("deploy") == 1


def test_a_new_attempt_of_the_run_records_the_command_again(cli: Cli, api: Any) -> None:
    app = make_app(api, "reattempted", "b1")
    deploy = ("deploy", app, "prod", "--build", "b1")
    assert said(cli(*deploy, **env_of(api) | github("7201")))[0].endswith(" v1 (b1) to prod")
    again = said(cli(*deploy, **env_of(api) | github("7201", attempt="2")))
    assert again[0] == f"deployed {app} v2 (b1) to prod"


def test_gitlab_jobs_of_one_pipeline_are_told_apart(cli: Cli, api: Any) -> None:
    app = make_app(api, "gl-jobs", "b1")
    deploy = ("deploy", app, "prod", "--build", "b1")
    assert said(cli(*deploy, **env_of(api) | gitlab("8101", "1")))[0].endswith("v1 (b1) to prod")
    assert said(cli(*deploy, **env_of(api) | gitlab("8101", "1")))[0].endswith(REPLAYED)
    assert said(cli(*deploy, **env_of(api) | gitlab("8101", "2")))[0].endswith("v2 (b1) to prod")


def test_outside_ci_no_key_is_sent_unless_given(cli: Cli, api: Any) -> None:
    app = make_app(api, "by-hand", "b1")
    deploy = ("deploy", app, "prod", "--build", "b1")
    assert said(cli(*deploy, **env_of(api)))[0].endswith("v1 (b1) to prod")
    assert said(cli(*deploy, **env_of(api)))[0].endswith("v2 (b1) to prod")
    keyed = (*deploy, "--idempotency-key", "change-4711")
    assert said(cli(*keyed, **env_of(api)))[0].endswith("v3 (b1) to prod")
    assert said(cli(*keyed, **env_of(api)))[0] == f"deployed {app} v3 (b1) to prod{REPLAYED}"
    in_ci = said(cli(*keyed, **env_of(api) | github("7301")))  # a key given wins over the run's
    assert in_ci[0].endswith(REPLAYED)


def test_a_deploy_waiting_for_approval_is_requested_once_per_run(cli: Cli, api: Any) -> None:
    app = make_app(api, "gh-approved", "b1")
    body = {"reason": "two eyes", "policy": {"approvals": {"required": 1}}}
    api.write("PUT", f"/v1/apps/{app}/envs/prod/policy", body, headers={"X-Ledger-Actor": "root"})
    env = env_of(api) | github("7401")
    first = said(cli("deploy", app, "prod", "--build", "b1", **env))
    again = said(cli("deploy", app, "prod", "--build", "b1", **env))
    assert again == [first[0] + REPLAYED, first[1]]
    assert first[0].startswith("waits for approval: change request ")
    [pending] = api.read("/v1/requests", app=app)["items"]
    assert pending["id"] == first[0].split()[5]


def test_a_secret_enters_the_runs_key_by_its_name_alone(cli: Cli, api: Any, tmp_path: Path) -> None:
    app = make_app(api, "rotated")
    secret_file = tmp_path / "stripe-key"
    secret_file.write_text(SECRET)
    args = ("config", "set", app, "prod", f"STRIPE_KEY=@{secret_file}")
    env = env_of(api) | github("7501")
    said(cli(*args, **env))
    secret_file.write_text(SECRET + "-rotated")
    refused = cli(*args, **env)
    error = one_line_error(refused)
    assert "409" in error and "was used before with a different request" in error
    assert "github:7501.1:config-set:" in error and SECRET not in refused.stderr
    rotated = cli(*args, "--idempotency-key", "rotate-stripe-2", **env)
    assert said(rotated)[0] == f"set STRIPE_KEY in {app}/prod: release v2 (config v2)"
    assert state(api, app, "prod")["config"]["STRIPE_KEY"].startswith("<secret:")


def test_without_ci_variables_the_run_is_not_guessed(cli: Cli, api: Any) -> None:
    make_app(api, "no-ci")
    half = {k: v for k, v in github("7601").items() if k != "GITHUB_ACTIONS"}
    done = cli("build", "record", "no-ci", "--digest", digest_of("b1"), **env_of(api) | half)
    assert done.returncode == 2 and "give --commit" in done.stderr
