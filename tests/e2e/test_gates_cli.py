"""The gates from the `ledger` command against a real server: policies set and read back,
evidence, `ledger assert` whose exit code says what a deploy made right after it then does,
and change requests approved, rejected or failed. Open mode: LEDGER_ACTOR names the actor."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli as ledger_cli

from .conftest import base_environ

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def backend() -> str:
    """The CLI is a client of the HTTP API: what it does is the same on either store (each
    store is tested through the API itself), so these run on SQLite."""
    return "sqlite"


UUID_LENGTH = 36


def build(build_id: str) -> dict[str, Any]:
    digest = "sha256:" + build_id.encode().hex().ljust(64, "0")[:64]
    return {"build_id": build_id, "commit": digest[7:17], "artifact": {"digest": digest}}


def make_app(api: Any, app: str, *builds: str) -> str:
    api.write("POST", "/v1/apps", {"name": app})
    for build_id in builds:
        api.write("POST", f"/v1/apps/{app}/builds", build(build_id) | {"status": "succeeded"})
    return app


def set_policy(api: Any, app: str, env: str, document: dict[str, Any]) -> None:
    body = {"reason": "test policy", "policy": document}
    api.write("PUT", f"/v1/apps/{app}/envs/{env}/policy", body, headers=as_actor("admin"))


def as_actor(name: str) -> dict[str, str]:
    return {"X-Ledger-Actor": name}


def deploy(api: Any, app: str, env: str, build_id: str, actor: str = "ci") -> Any:
    path = f"/v1/apps/{app}/envs/{env}/deploys"
    return api.request("POST", path, {"build_id": build_id}, headers=as_actor(actor))


def requested(api: Any, app: str, env: str, build_id: str, actor: str = "ci") -> str:
    """The id of the change request a deploy that waits for approval makes."""
    answer = deploy(api, app, env, build_id, actor)
    assert answer.status == 202, api.explain(answer)
    request_id: str = answer.json["request"]["id"]
    return request_id


def frozen_now() -> dict[str, Any]:
    """A one-off freeze window in force from an hour ago to an hour from now."""
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1), now + timedelta(hours=1))
    return {"name": "release-freeze", "start": start.isoformat(), "end": end.isoformat()}


def env_of(api: Any, actor: str = "alice") -> dict[str, str]:
    return {"LEDGER_URL": api.url, "LEDGER_ACTOR": actor}


def no_traceback(done: Any) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


def one_line_error(done: Any) -> str:
    assert done.returncode == 1, done
    no_traceback(done)
    lines: list[str] = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


# --------------------------------------------------------------------------------------------
# Policies


def test_policy_levels_set_from_files_resolve_and_read_back_in_the_past(
    cli: Any, api: Any, tmp_path: Path
) -> None:
    make_app(api, "levels")
    env = env_of(api, "root")
    every_app = tmp_path / "every-app.json"
    every_app.write_text(json.dumps({"required_evidence": ["tests"], "approvals": {"required": 1}}))
    done = cli("policy", "set", "*", "uat", "--file", str(every_app), "--reason", "tests", **env)
    assert done.returncode == 0, done.stderr
    assert "set the policy of every app in uat" in done.stdout
    time.sleep(0.05)
    before_own = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    own = tmp_path / "own.json"
    own.write_text(json.dumps({"approvals": None, "freeze": [frozen_now()]}))
    done = cli("policy", "set", "levels", "uat", "--file", str(own), "--reason", "solo", **env)
    assert done.returncode == 0, done.stderr

    shown = json.loads(cli("policy", "show", "levels", "uat", "--json", **env).stdout)
    assert shown["policy"]["version"] == "levels/uat v1 + */uat v1"
    assert shown["policy"]["required_evidence"] == ["tests"]  # inherited from *
    assert shown["policy"]["approvals"] is None  # "none here" overrides *'s
    assert shown["changed_by"] == "root" and shown["frozen"]["name"] == "release-freeze"
    table = cli("policy", "show", "levels", "uat", **env)
    assert table.returncode == 0, table.stderr
    out = table.stdout
    assert "levels/uat: policy levels/uat v1 + */uat v1" in out and "tests" in out
    assert "frozen now" in out and "release-freeze until" in out
    assert "levels/uat v1 (by root at" in out and "sets: approvals, freeze" in out

    past = cli("policy", "show", "levels", "uat", "--at", before_own, "--json", **env)
    assert past.returncode == 0, past.stderr
    then = json.loads(past.stdout)["policy"]
    assert then["version"] == "*/uat v1" and then["approvals"]["required"] == 1
    star = cli("policy", "show", "*", "uat", **env)
    assert "*/uat: policy */uat v1" in star.stdout and "sets: approvals, required_evidence" in (
        star.stdout
    )


def test_policy_windows_lists_each_freeze_in_a_span(cli: Any, api: Any, tmp_path: Path) -> None:
    make_app(api, "windows")
    weekly = {"name": "weekend", "cron": "0 18 * * 5", "duration": "62h", "reason": "no on-call"}
    set_policy(api, "windows", "prod", {"freeze": [weekly | {"timezone": "Europe/Berlin"}]})
    env = env_of(api)
    span = ("--from", "2030-01-01T00:00:00Z", "--to", "2030-01-15T00:00:00Z")
    table = cli("policy", "windows", "windows", "prod", *span, **env)
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("weekend") == 2 and "no on-call" in table.stdout
    assert "2030-01-04 17:00:00Z" in table.stdout  # Friday 18:00 in Berlin, in UTC
    listed = json.loads(cli("policy", "windows", "windows", "prod", *span, "--json", **env).stdout)
    assert [w["start"] for w in listed["items"]] == ["2030-01-04T17:00:00Z", "2030-01-11T17:00:00Z"]
    refused = cli("policy", "windows", "windows", "prod", "--to", "2020-01-01T00:00:00Z", **env)
    assert "422" in one_line_error(refused)


def test_a_policy_from_stdin_and_policies_the_server_or_the_file_refuse(
    cli: Any, api: Any, tmp_path: Path
) -> None:
    make_app(api, "stdin")
    args = ["policy", "set", "stdin", "prod", "--file", "-", "--reason", "from a pipe"]
    piped = subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", *args],
        input='{"required_evidence": ["scan"]}', env=base_environ() | env_of(api),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    shown = api.read("/v1/apps/stdin/envs/prod/policy")
    assert shown["policy"]["required_evidence"] == ["scan"] and shown["level_version"] == 1

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"approvals": {"required": 1, "quorum": 2}}))
    error = one_line_error(cli(*args[:4], "--file", str(wrong), "--reason", "x", **env_of(api)))
    assert "422" in error and "policy.approvals.quorum" in error
    wrong.write_text("[1, 2]")
    error = one_line_error(cli(*args[:4], "--file", str(wrong), "--reason", "x", **env_of(api)))
    assert "must be a JSON object" in error
    missing = tmp_path / "missing.json"
    error = one_line_error(cli(*args[:4], "--file", str(missing), "--reason", "x", **env_of(api)))
    assert "missing.json" in error and "No such file" in error
    assert api.read("/v1/apps/stdin/envs/prod/policy")["level_version"] == 1


# --------------------------------------------------------------------------------------------
# Evidence and `ledger assert`


def test_evidence_is_recorded_on_the_build(cli: Any, api: Any) -> None:
    make_app(api, "attested", "b1")
    env = env_of(api, "ci")
    done = cli(
        "evidence", "attested", "b1", "--type", "tests", "--status", "passed",
        "--url", "https://ci.example/run/7", "--summary", "412 passed", **env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "recorded tests passed on build b1 of attested" in done.stdout
    [attestation] = api.read("/v1/apps/attested/builds/b1")["evidence"]
    assert attestation["type"] == "tests" and attestation["status"] == "passed"
    assert attestation["actor"] == "ci" and attestation["url"] == "https://ci.example/run/7"
    assert attestation["summary"] == "412 passed"
    unknown = cli("evidence", "attested", "b9", "--type", "tests", "--status", "passed", **env)
    assert "404" in one_line_error(unknown) and "b9" in unknown.stderr
    bad = cli("evidence", "attested", "b1", "--type", "Unit Tests", "--status", "passed", **env)
    assert "422" in one_line_error(bad) and "type" in bad.stderr


CASES = [
    # name, policy, assert's exit code, the deploy's status, the gates assert names
    ("open", {}, 0, 201, set()),
    ("approval", {"approvals": {"required": 1}}, 3, 202, {"approval"}),
    ("evidence", {"required_evidence": ["tests"]}, 1, 409, {"evidence"}),
    ("freeze", {"freeze": "now"}, 1, 423, {"freeze"}),
    ("promotion", {"promotion_from": "staging"}, 1, 403, {"promotion"}),
    (
        "both",
        {"approvals": {"required": 1}, "required_evidence": ["tests"]},
        1,
        409,
        {"evidence", "approval"},
    ),
]


@pytest.mark.parametrize(
    ("name", "document", "code", "status", "gates"), CASES, ids=[c[0] for c in CASES]
)
def test_assert_exit_code_says_what_a_deploy_then_does(
    cli: Any,
    api: Any,
    name: str,
    document: dict[str, Any],
    code: int,
    status: int,
    gates: set[str],
) -> None:
    app = make_app(api, f"assert-{name}", "b1")
    if document.get("freeze") == "now":
        document = {"freeze": [frozen_now()]}
    set_policy(api, app, "prod", document)
    asked = cli("assert", app, "prod", "--build", "b1", **env_of(api, "ci"))
    no_traceback(asked)
    assert asked.returncode == code, asked
    lines = asked.stdout.strip().splitlines()
    if code == 0:
        assert lines == [f"allowed (policy {app}/prod v1)"]
    else:
        assert {line.split(":")[0] for line in lines} == gates, lines
        assert all(line.endswith(f"(policy {app}/prod v1)") for line in lines), lines
    answer = deploy(api, app, "prod", "b1", "ci")
    assert answer.status == status, api.explain(answer)
    if status == 201:
        assert answer.json["release"]["version"] == 1
    elif status == 202:
        assert answer.json["request"]["status"] == "pending"
    else:
        assert answer.json["gate"] in gates and answer.json["policy"] == f"{app}/prod v1"


def test_evidence_turns_a_refusal_into_a_wait_for_approval(cli: Any, api: Any) -> None:
    app = make_app(api, "evidenced", "b1")
    set_policy(api, app, "prod", {"approvals": {"required": 1}, "required_evidence": ["tests"]})
    env = env_of(api, "ci")
    record = ("evidence", app, "b1", "--type", "tests", "--status")
    assert cli(*record, "failed", **env).returncode == 0
    failed = cli("assert", app, "prod", "--build", "b1", "--json", **env)
    assert failed.returncode == 1
    assert [r["gate"] for r in json.loads(failed.stdout)["reasons"]] == ["evidence", "approval"]
    assert cli(*record, "passed", **env).returncode == 0  # the newest of a type counts
    waits = cli("assert", app, "prod", "--build", "b1", **env)
    assert waits.returncode == 3, waits
    assert waits.stdout.startswith("approval: the change waits for 1 approval")
    assert deploy(api, app, "prod", "b1").status == 202


def test_assert_a_promotion_a_config_change_and_a_rollback(cli: Any, api: Any) -> None:
    app = make_app(api, "promoted", "b1", "b2")
    for build_id in ("b1", "b2"):
        assert deploy(api, app, "staging", build_id).status == 201
    env = env_of(api, "ci")
    assert cli("assert", app, "prod", "--from-env", "staging", **env).returncode == 0
    assert cli("assert", app, "staging", "--action", "config", **env).returncode == 0
    nothing = cli("assert", app, "prod", "--action", "rollback", **env)
    assert nothing.returncode == 1 and nothing.stdout.startswith("command: "), nothing
    set_policy(api, app, "staging", {"approvals": {"required": 1}})
    assert cli("assert", app, "staging", "--action", "rollback", **env).returncode == 3
    assert cli("assert", app, "staging", "--action", "config", **env).returncode == 3
    exempt = {"approvals": {"required": 1}, "rollback_needs_approval": False}
    set_policy(api, app, "staging", exempt)
    assert cli("assert", app, "staging", "--action", "rollback", **env).returncode == 0
    beyond = cli("assert", app, "staging", "--action", "rollback", "--to", "9", **env)
    assert beyond.returncode == 1 and "v9" in beyond.stdout, beyond
    rolled = api.request(
        "POST", f"/v1/apps/{app}/envs/staging/rollback", {"reason": "assert said so"}
    )
    assert rolled.status == 201, api.explain(rolled)
    promote = cli("assert", app, "prod", "--from-env", "staging", **env)
    assert promote.returncode == 0, promote
    answer = api.request("POST", f"/v1/apps/{app}/envs/prod/promote", {"from_env": "staging"})
    assert answer.status == 201 and answer.json["release"]["build_id"] == "b1", answer


# --------------------------------------------------------------------------------------------
# Change requests


def test_a_rollback_waits_for_another_principals_approval(cli: Any, api: Any) -> None:
    app = make_app(api, "rolled", "b1", "b2")
    for build_id in ("b1", "b2"):
        assert deploy(api, app, "prod", build_id).status == 201
    set_policy(api, app, "prod", {"approvals": {"required": 1}})
    waits = cli("rollback", app, "prod", "--reason", "b2 is slow", **env_of(api, "alice"))
    assert waits.returncode == 0, waits.stderr
    first = waits.stdout.splitlines()[0]
    assert first.startswith("waiting for approval: request ") and "rollback of rolled/prod" in first
    assert "requested by alice" in first and "waits for 1 approval until" in first
    request_id = first.split()[4]
    assert len(request_id) == UUID_LENGTH and f"ledger approve {request_id}" in waits.stdout
    assert api.read(f"/v1/apps/{app}/envs/prod")["release"]["version"] == 2

    own = cli("approve", request_id, **env_of(api, "alice"))
    error = one_line_error(own)
    assert "403" in error and "may not approve" in error and "gate: approval" in error
    done = cli("approve", request_id, "--reason", "agreed", **env_of(api, "bob"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("approved and released: v3 · build b1")
    assert "rollback of v1" in done.stdout and "by alice" in done.stdout
    release = api.read(f"/v1/apps/{app}/envs/prod")["release"]
    assert (release["version"], release["build_id"], release["actor"]) == (3, "b1", "alice")


def test_approvals_count_once_and_a_rejected_request_stays_rejected(cli: Any, api: Any) -> None:
    app = make_app(api, "twice", "b1")
    set_policy(api, app, "prod", {"approvals": {"required": 2}})
    request_id = requested(api, app, "prod", "b1")
    first = cli("approve", request_id, **env_of(api, "bob"))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"approved: request {request_id} (deploy b1 to twice/prod")
    assert "waits for 1 approval until" in first.stdout
    again = cli("approve", request_id, **env_of(api, "bob"))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("you approved it before (an approval counts once)")
    assert "waits for 1 approval" in again.stdout
    rejected = cli("reject", request_id, "--reason", "not today", **env_of(api, "carol"))
    assert rejected.returncode == 0, rejected.stderr
    assert rejected.stdout.startswith(f"rejected: request {request_id}")
    assert "is rejected" in rejected.stdout
    late = one_line_error(cli("approve", request_id, **env_of(api, "dave")))
    assert "409" in late and "not pending" in late
    nothing = api.get(f"/v1/apps/{app}/envs/prod", min_position=api.last_position)
    assert nothing.status == 404, nothing  # no release was ever made there


def test_a_request_made_stale_by_a_newer_release_fails_when_approved(cli: Any, api: Any) -> None:
    app = make_app(api, "stale", "b1", "b2")
    set_policy(api, app, "prod", {"approvals": {"required": 1}})
    request_id = requested(api, app, "prod", "b1")
    set_policy(api, app, "prod", {"approvals": None})
    assert deploy(api, app, "prod", "b2").status == 201
    failed = one_line_error(cli("approve", request_id, **env_of(api, "bob")))
    assert "409" in failed and f"change request {request_id} failed" in failed
    assert "superseded" in failed
    release = api.read(f"/v1/apps/{app}/envs/prod")["release"]
    assert (release["version"], release["build_id"]) == (1, "b2")


def test_requests_lists_pending_ones_and_a_prefix_names_one(cli: Any, api: Any) -> None:
    app = make_app(api, "listed", "b1", "b2")
    set_policy(api, app, "prod", {"approvals": {"required": 1}})
    request_id = requested(api, app, "prod", "b1", actor="ci-bot")
    env = env_of(api, "bob")
    table = cli("requests", "--app", app, **env)
    assert table.returncode == 0, table.stderr
    [row] = [line for line in table.stdout.splitlines() if request_id[:8] in line]
    for cell in (app, "prod", "deploy", "b1", "ci-bot", "1 approval"):
        assert cell in row, row
    listed = json.loads(cli("requests", "--app", app, "--json", **env).stdout)["items"]
    assert [r["id"] for r in listed] == [request_id]
    done = cli("approve", request_id[:8], **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("approved and released: v1 · build b1")
    assert "no change requests" in cli("requests", "--app", app, **env).stdout
    every = cli("requests", "--app", app, "--status", "all", **env)
    assert "STATUS" in every.stdout and "released" in every.stdout


def test_a_prefix_no_pending_request_starts_is_one_line(cli: Any, api: Any) -> None:
    error = one_line_error(cli("approve", "00000000", **env_of(api)))
    assert "no pending change request starts with '00000000'" in error


# --------------------------------------------------------------------------------------------
# Usage, connection errors, help


@pytest.mark.parametrize(
    "args",
    [
        ("assert", "shop", "prod"),
        ("assert", "shop", "prod", "--build", "b1", "--from-env", "staging"),
        ("assert", "shop", "prod", "--action", "rollback", "--build", "b1"),
        ("assert", "shop", "prod", "--action", "promote"),
        ("assert", "shop", "prod", "--build", "b1", "--to", "2"),
        ("assert", "shop", "prod", "--action", "restart"),
        ("policy", "show", "Shop!", "prod"),
        ("policy", "show", "shop", "prod", "--at", "yesterday"),
        ("policy", "set", "shop", "prod", "--reason", "x"),
        ("policy", "set", "shop", "prod", "--file", "-"),
        ("policy", "windows", "**", "prod"),
        ("evidence", "shop", "b1", "--type", "tests", "--status", "maybe"),
        ("evidence", "shop", "b1", "--status", "passed"),
        ("requests", "--status", "waiting"),
        ("approve", "1f04ab1"),
        ("approve", "not-a-request-id"),
        ("reject", "1f04ab12"),
    ],
)
def test_usage_errors_exit_2_before_any_request(unused_url: str, args: tuple[str, ...]) -> None:
    done = CliRunner().invoke(
        ledger_cli, list(args), prog_name="ledger", env={"LEDGER_URL": unused_url}
    )
    assert done.exit_code == 2, done.output
    assert "Error:" in done.stderr and "Traceback" not in done.output


@pytest.mark.parametrize(
    "args",
    [
        ("policy", "show", "shop", "prod"),
        ("assert", "shop", "prod", "--build", "b1"),
        ("evidence", "shop", "b1", "--type", "tests", "--status", "passed"),
        ("requests",),
        ("approve", "1f04ab12-0000-4000-8000-000000000000"),
    ],
    ids=lambda args: args[0],
)
def test_an_unreachable_server_is_one_line_and_exit_1(
    cli: Any, unused_url: str, args: tuple[str, ...]
) -> None:
    done = cli(*args, LEDGER_URL=unused_url)
    assert f"cannot reach the ledger at {unused_url}" in one_line_error(done)


def test_the_gate_commands_explain_themselves() -> None:
    commands = ["policy show", "policy set", "policy windows", "evidence", "assert"]
    commands += ["requests", "approve", "reject"]
    for command in commands:
        done = CliRunner().invoke(ledger_cli, [*command.split(), "--help"], prog_name="ledger")
        assert done.exit_code == 0, done.output
        assert done.stdout.startswith(f"Usage: ledger {command}"), done.stdout
    told = CliRunner().invoke(ledger_cli, ["assert", "--help"], prog_name="ledger").stdout
    assert all(f"  {code}  " in told for code in "0123"), told
