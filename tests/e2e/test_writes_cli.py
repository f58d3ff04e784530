"""The write commands against a real server, outside any CI: each records what it says in a
line or two, a refusal is one line with the server's detail and exit code 1, and a change that
waits for approval prints its change request and exits 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli as ledger_cli

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


@pytest.fixture
def cli() -> Cli:
    return Cli(outside_ci())


# --------------------------------------------------------------------------------------------
# Builds


def test_build_record_prints_the_build_and_records_every_fact(cli: Cli, api: Any) -> None:
    make_app(api, "built")
    done = cli(
        "build", "record", "built", "--commit", COMMIT, "--digest", digest_of("b7"),
        "--build-id", "b7", "--branch", "release/7", "--url", "registry.example/built:7",
        "--committed-at", "2030-05-07T14:03:00Z", "--pipeline", "built-ci", "--run-id", "77",
        "--run-url", "https://ci.example/77", **env_of(api),
    )  # fmt: skip
    first, position = said(done)
    assert first == "recorded build b7 of built (a1b2c3d, succeeded)"
    assert position.startswith("position ")
    recorded = api.read("/v1/apps/built/builds/b7")
    assert (recorded["commit"], recorded["branch"], recorded["status"]) == (
        COMMIT, "release/7", "succeeded",
    )  # fmt: skip
    assert recorded["pipeline"] == {
        "name": "built-ci",
        "run_id": "77",
        "url": "https://ci.example/77",
    }
    failed = cli(
        "build", "record", "built", "--commit", COMMIT, "--digest", digest_of("b8"),
        "--status", "failed", "--json", **env_of(api),
    )  # fmt: skip
    answer = json.loads(failed.stdout)
    assert answer["build"]["build_id"] == digest_of("b8")[7:19]  # the digest names it
    assert answer["build"]["status"] == "failed" and "pipeline" not in api.read(
        f"/v1/apps/built/builds/{answer['build']['build_id']}"
    )


def test_a_build_recorded_again_with_other_facts_is_refused(cli: Cli, api: Any) -> None:
    make_app(api, "rebuilt", "b1")
    args = ("build", "record", "rebuilt", "--build-id", "b1", "--digest", digest_of("b1"))
    same = said(cli(*args, "--commit", COMMIT, **env_of(api)))
    assert same[0] == "recorded build b1 of rebuilt (a1b2c3d, succeeded) (replayed)"
    error = one_line_error(cli(*args, "--commit", "ffff0000", **env_of(api)))
    assert "409" in error and "recorded before with other facts" in error


# --------------------------------------------------------------------------------------------
# Deploys and rollouts


def test_deploy_and_rollout_a_canary_to_its_end(cli: Cli, api: Any) -> None:
    make_app(api, "canaried", "b1", "b2")
    env = env_of(api)
    all_at_once = said(cli("deploy", "canaried", "prod", "--build", "b1", **env))
    assert all_at_once[0] == "deployed canaried v1 (b1) to prod"
    canary = cli(
        "deploy", "canaried", "prod", "--build", "b2", "--canary", "--steps", "10,50,100",
        "--description", "new cart", **env,
    )  # fmt: skip
    assert said(canary)[0] == "deployed canaried v2 (b2) to prod — canary 10%"
    assert said(cli("rollout", "canaried", "prod", "2", "--percent", "50", **env))[0] == (
        "rollout of canaried v2 in prod: 50%"
    )
    release = state(api, "canaried", "prod")["release"]
    assert (release["status"], release["rollout_percent"]) == ("rolling_out", 50)
    assert release["description"] == "new cart"
    done = said(cli("rollout", "canaried", "prod", "2", "--complete", **env))
    assert done[0] == "rollout of canaried v2 in prod: completed"
    assert state(api, "canaried", "prod")["release"]["status"] == "succeeded"
    ended = one_line_error(cli("rollout", "canaried", "prod", "2", "--abort", **env))
    assert "409" in ended and "v2 is succeeded, not rolling out" in ended


def test_a_rollout_aborted_or_failed_says_so(cli: Cli, api: Any) -> None:
    make_app(api, "stopped", "b1", "b2")
    env = env_of(api)
    said(cli("deploy", "stopped", "prod", "--build", "b1", "--canary", **env))
    assert state(api, "stopped", "prod")["release"]["rollout_percent"] == 1  # the default steps
    aborted = cli("rollout", "stopped", "prod", "1", "--abort", "--reason", "errors up", **env)
    assert said(aborted)[0] == "rollout of stopped v1 in prod: aborted"
    assert release(api, "stopped", 1)["status"] == "aborted"
    said(cli("deploy", "stopped", "prod", "--build", "b2", "--canary", **env))
    assert said(cli("rollout", "stopped", "prod", "2", "--fail", **env))[0].endswith(": failed")
    assert release(api, "stopped", 2)["status"] == "failed"


def test_deploy_json_is_the_servers_answer(cli: Cli, api: Any) -> None:
    make_app(api, "jsoned", "b1")
    done = cli("deploy", "jsoned", "prod", "--build", "b1", "--json", **env_of(api))
    answer = json.loads(done.stdout)
    assert answer["release"]["version"] == 1 and answer["release"]["build_id"] == "b1"
    assert isinstance(answer["position"], int)


def test_a_deploy_run_inside_a_trace_keeps_it_on_its_events(cli: Cli, api: Any) -> None:
    """A pipeline's tracing hands commands TRACEPARENT; subscribers get the same trace back."""
    make_app(api, "traced", "b1")
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    said(cli("deploy", "traced", "prod", "--build", "b1", TRACEPARENT=parent, **env_of(api)))
    answer = api.get("/v1/events", after=0, limit=1000)
    assert answer.status == 200, api.explain(answer)
    deployed = [e for e in answer.json if e["data"]["subject"]["id"] == "traced/prod"]
    assert deployed and deployed[-1]["traceparent"] == parent


def test_a_deploy_of_an_unknown_build_is_one_line_and_appends_nothing(cli: Cli, api: Any) -> None:
    make_app(api, "unknown", "b1")
    before = api.last_position
    error = one_line_error(cli("deploy", "unknown", "prod", "--build", "b9", **env_of(api)))
    assert error == (
        "Error: Not found (HTTP 404): build 'b9' of app 'unknown' was never recorded "
        "[fields: build_id]"
    )
    api.assert_nothing_appended(before)


def test_a_deploy_that_waits_for_approval_prints_its_change_request(cli: Cli, api: Any) -> None:
    make_app(api, "approved", "b1")
    body = {"reason": "two eyes", "policy": {"approvals": {"required": 2}}}
    api.write("PUT", "/v1/apps/approved/envs/prod/policy", body, headers={"X-Ledger-Actor": "root"})
    first, second = said(cli("deploy", "approved", "prod", "--build", "b1", **env_of(api)))
    assert first.startswith("waits for approval: change request ") and first.endswith(
        " (2 approvals)"
    )
    request_id = first.split()[5]
    assert second.startswith(f"approve it with: ledger approve {request_id} (deploy b1 to ")
    [pending] = api.read("/v1/requests", app="approved")["items"]
    assert (pending["id"], pending["status"], pending["requested_by"]) == (
        request_id, "pending", "ci-bot",
    )  # fmt: skip
    assert api.get("/v1/apps/approved/envs/prod", min_position=api.last_position).status == 404


def release(api: Any, app: str, version: int) -> dict[str, Any]:
    result: dict[str, Any] = api.read(f"/v1/apps/{app}/envs/prod/releases/{version}")
    return result


# --------------------------------------------------------------------------------------------
# Config, flags, migrations, evidence


def test_config_set_takes_values_from_files_and_stdin(cli: Cli, api: Any, tmp_path: Path) -> None:
    make_app(api, "configured")
    secret_file = tmp_path / "db-password"
    secret_file.write_text(SECRET + "\n")
    done = cli(
        "config", "set", "configured", "prod", "TIMEOUT=30", f"DB_PASSWORD=@{secret_file}",
        "HANDLE=@@shop", "--reason", "first config", **env_of(api),
    )  # fmt: skip
    assert (
        said(done)[0]
        == "set TIMEOUT, DB_PASSWORD, HANDLE in configured/prod: release v1 (config v1)"
    )
    piped = subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", "config", "set", "configured", "prod",
         "API_TOKEN_FILE=@-", "--secret", "API_TOKEN_FILE"],
        input=SECRET + "-2\n", env=outside_ci() | env_of(api),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert said(piped)[0] == "set API_TOKEN_FILE in configured/prod: release v2 (config v2)"
    config = state(api, "configured", "prod")["config"]
    assert (config["TIMEOUT"], config["HANDLE"]) == ("30", "@shop")
    assert config["DB_PASSWORD"].startswith("<secret:") and config["API_TOKEN_FILE"].startswith(
        "<secret:"
    )
    assert SECRET not in done.stdout + piped.stdout + json.dumps(config)
    unset = said(cli("config", "unset", "configured", "prod", "TIMEOUT", "HANDLE", **env_of(api)))
    assert unset[0] == "unset TIMEOUT, HANDLE in configured/prod: release v3 (config v3)"
    assert set(state(api, "configured", "prod")["config"]) == {"DB_PASSWORD", "API_TOKEN_FILE"}


def test_config_values_it_cannot_read_or_the_ledger_refuses_are_one_line(
    cli: Cli, api: Any, tmp_path: Path
) -> None:
    make_app(api, "unread")
    missing = tmp_path / "missing"
    error = one_line_error(cli("config", "set", "unread", "prod", f"A=@{missing}", **env_of(api)))
    assert error == f"Error: A=@{missing}: No such file or directory"
    error = one_line_error(cli("config", "set", "unread", "prod", "1BAD=x", **env_of(api)))
    assert "Invalid field (HTTP 422)" in error and "[fields: set]" in error
    nothing = one_line_error(cli("config", "unset", "unread", "prod", "NEVER_SET", **env_of(api)))
    assert nothing.endswith(
        "(HTTP 409): the config already has these values; no release was created"
    )


def test_flag_set_on_for_a_share_then_off(cli: Cli, api: Any) -> None:
    make_app(api, "flagged")
    env = env_of(api)
    on = cli("flag", "set", "flagged", "prod", "new-checkout", "--on", "--percent", "25", **env)
    assert said(on)[0] == "flag new-checkout on for 25% in flagged/prod"
    flags = state(api, "flagged", "prod")["flags"]
    assert flags["new-checkout"] == {"enabled": True, "rollout_percent": 25}
    off = cli("flag", "set", "flagged", "prod", "new-checkout", "--off", "--reason", "bugs", **env)
    assert said(off)[0] == "flag new-checkout off in flagged/prod"
    assert state(api, "flagged", "prod")["flags"]["new-checkout"]["enabled"] is False


def test_migration_record_sets_the_schema_and_is_recorded_once(cli: Cli, api: Any) -> None:
    make_app(api, "migrated", "b1")
    said(cli("deploy", "migrated", "prod", "--build", "b1", **env_of(api)))
    args = ("migration", "record", "migrated", "prod", "--id", "0007-drop-carts")
    args += ("--schema-version", "7", "--irreversible", "--description", "carts go")
    assert said(cli(*args, **env_of(api)))[0] == (
        "recorded migration 0007-drop-carts in migrated/prod: schema 7, irreversible"
    )
    assert state(api, "migrated", "prod")["schema_version"] == "7"
    again = one_line_error(cli(*args, **env_of(api)))
    assert "409" in again and "was already applied" in again


def test_evidence_add_and_its_short_form_record_alike(cli: Cli, api: Any) -> None:
    make_app(api, "evidenced", "b1")
    env = env_of(api)
    added = cli(
        "evidence", "add", "evidenced", "b1", "--type", "tests", "--status", "failed", **env
    )
    assert said(added)[0] == "recorded tests failed on build b1 of evidenced"
    short = cli("evidence", "evidenced", "b1", "--type", "tests", "--status", "passed", **env)
    assert said(short)[0] == "recorded tests passed on build b1 of evidenced"
    recorded = api.read("/v1/apps/evidenced/builds/b1")["evidence"]
    assert [(e["type"], e["status"]) for e in recorded] == [
        ("tests", "failed"),
        ("tests", "passed"),
    ]


# --------------------------------------------------------------------------------------------
# Usage, connection errors, help


@pytest.mark.parametrize(
    "args",
    [
        ("build", "record", "shop", "--digest", "sha256:ab"),  # no commit outside CI
        ("build", "record", "shop", "--commit", "ab12", "--digest", "sha256:ab", "--run-id", "1"),
        ("build", "record", "shop", "--commit", "ab12"),
        ("build", "record", "shop", "--commit", "ab12", "--digest", "x", "--status", "green"),
        ("deploy", "shop", "prod"),
        ("deploy", "shop", "prod", "--build", "b1", "--steps", "10,100"),
        ("deploy", "shop", "prod", "--build", "b1", "--canary", "--steps", "ten"),
        ("deploy", "Shop!", "prod", "--build", "b1"),
        ("rollout", "shop", "prod", "2"),
        ("rollout", "shop", "prod", "2", "--percent", "50", "--complete"),
        ("rollout", "shop", "prod", "2", "--complete", "--abort"),
        ("rollout", "shop", "prod", "v2", "--complete"),
        ("rollout", "shop", "prod", "2", "--percent", "101"),
        ("config", "set", "shop", "prod"),
        ("config", "set", "shop", "prod", "TIMEOUT"),
        ("config", "set", "shop", "prod", "=30"),
        ("config", "set", "shop", "prod", "A=1", "A=2"),
        ("config", "set", "shop", "prod", "A=@-", "B=@-"),
        ("config", "unset", "shop", "prod"),
        ("flag", "set", "shop", "prod", "dark-mode"),
        ("flag", "set", "shop", "prod", "dark-mode", "--on", "--percent", "120"),
        ("migration", "record", "shop", "prod", "--id", "m1", "--schema-version", "1"),
        ("migration", "record", "shop", "prod", "--schema-version", "1", "--reversible"),
        ("deploy", "shop", "prod", "--build", "b1", "--idempotency-key", ""),
        ("deploy", "shop", "prod", "--build", "b1", "--idempotency-key", "x" * 129),
        ("evidence", "add", "shop", "b1", "--type", "tests"),
    ],
)
def test_usage_errors_exit_2_before_any_request(unused_url: str, args: tuple[str, ...]) -> None:
    env: dict[str, str | None] = {"LEDGER_URL": unused_url, "GITHUB_ACTIONS": None}
    env["GITLAB_CI"] = None
    done = CliRunner().invoke(ledger_cli, list(args), prog_name="ledger", env=env)
    assert done.exit_code == 2, done.output
    assert "Error:" in done.stderr and "Traceback" not in done.output


WRITES = [
    ("build", "record", "shop", "--commit", "ab12", "--digest", "sha256:ab"),
    ("deploy", "shop", "prod", "--build", "b1"),
    ("rollout", "shop", "prod", "2", "--complete"),
    ("config", "set", "shop", "prod", "A=1"),
    ("config", "unset", "shop", "prod", "A"),
    ("flag", "set", "shop", "prod", "dark-mode", "--on"),
    ("migration", "record", "shop", "prod", "--id", "m1", "--schema-version", "1", "--reversible"),
    ("evidence", "add", "shop", "b1", "--type", "tests", "--status", "passed"),
]


@pytest.mark.parametrize("args", WRITES, ids=lambda args: "-".join(args[:2]))
def test_an_unreachable_server_is_one_line_and_exit_1(
    cli: Cli, unused_url: str, args: tuple[str, ...]
) -> None:
    done = cli(*args, LEDGER_URL=unused_url)
    assert f"cannot reach the ledger at {unused_url}" in one_line_error(done)


def test_the_write_commands_explain_themselves() -> None:
    commands = ["build record", "deploy", "rollout", "config set", "config unset", "flag set"]
    commands += ["migration record", "evidence add"]
    for command in commands:
        done = CliRunner().invoke(ledger_cli, [*command.split(), "--help"], prog_name="ledger")
        assert done.exit_code == 0, done.output
        assert done.stdout.startswith(f"Usage: ledger {command}"), done.stdout
        assert "--idempotency-key" in done.stdout and "--json" in done.stdout
    told = CliRunner().invoke(ledger_cli, ["build", "record", "--help"], prog_name="ledger")
    assert "GitHub Actions and GitLab CI" in told.stdout and "GITHUB_RUN_ID" in told.stdout
    assert "CI_PIPELINE_ID" in told.stdout
