"""The CI run a command runs in, as read from the variables GitHub Actions and GitLab CI set,
and the idempotency keys its writes get."""

from __future__ import annotations

from ledger.cli.ci_env import HEADER_VALUE, detect

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_RUN_ID": "9876543210",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_WORKFLOW": "deploy",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_SHA": "a1b2c3d4",
    "GITHUB_REF_NAME": "main",
}
GITLAB = {
    "GITLAB_CI": "true",
    "CI_PIPELINE_ID": "4711",
    "CI_JOB_ID": "815",
    "CI_PIPELINE_URL": "https://gitlab.example/acme/shop/-/pipelines/4711",
    "CI_PROJECT_PATH": "acme/shop",
    "CI_COMMIT_SHA": "a1b2c3d4",
    "CI_COMMIT_REF_NAME": "release-7",
    "CI_COMMIT_TIMESTAMP": "2030-05-07T14:03:00+02:00",
}
REQUEST = {"path": "/v1/apps/shop/envs/prod/deploys", "body": {"build_id": "b42"}}


def test_github_actions_names_the_run_its_page_commit_and_branch() -> None:
    run = detect(GITHUB)
    assert run is not None
    assert (run.provider, run.run_id, run.attempt, run.pipeline) == (
        "github", "9876543210", "2", "deploy",
    )  # fmt: skip
    assert run.run_url == "https://github.com/acme/shop/actions/runs/9876543210"
    assert (run.commit, run.branch, run.correlation_id) == ("a1b2c3d4", "main", "9876543210")


def test_gitlab_ci_names_the_pipeline_its_job_and_the_commits_time() -> None:
    run = detect(GITLAB)
    assert run is not None
    assert (run.provider, run.run_id, run.attempt, run.pipeline) == (
        "gitlab", "4711", "815", "acme/shop",
    )  # fmt: skip
    assert run.run_url == GITLAB["CI_PIPELINE_URL"] and run.branch == "release-7"
    assert run.committed_at == "2030-05-07T14:03:00+02:00"
    named = detect(GITLAB | {"CI_PIPELINE_NAME": "nightly"})
    assert named is not None and named.pipeline == "nightly"


def test_outside_ci_there_is_no_run() -> None:
    assert detect({}) is None
    assert detect({k: v for k, v in GITHUB.items() if k != "GITHUB_ACTIONS"}) is None
    assert detect(GITLAB | {"GITLAB_CI": "false"}) is None


def test_a_runs_key_names_the_run_its_attempt_and_the_command() -> None:
    run = detect(GITHUB)
    assert run is not None
    key = run.idempotency_key("deploy", REQUEST)
    assert key.startswith("github:9876543210.2:deploy:") and HEADER_VALUE.fullmatch(key)
    assert run.idempotency_key("deploy", REQUEST) == key
    other = {"path": REQUEST["path"], "body": {"build_id": "b43"}}
    assert run.idempotency_key("deploy", other) != key
    again = detect(GITHUB | {"GITHUB_RUN_ATTEMPT": "3"})
    assert again is not None and again.idempotency_key("deploy", REQUEST) != key
    first_attempt = detect({k: v for k, v in GITHUB.items() if k != "GITHUB_RUN_ATTEMPT"})
    assert first_attempt is not None and first_attempt.attempt == "1"


def test_a_key_fits_its_header_whatever_the_run_id() -> None:
    run = detect(GITHUB | {"GITHUB_RUN_ID": "9" * 200})
    assert run is not None
    key = run.idempotency_key("migration-record", REQUEST)
    assert HEADER_VALUE.fullmatch(key) and key.startswith("github:")
    assert run.correlation_id is None  # too long for its header: not sent
