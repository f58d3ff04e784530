"""The `ledger` command against a real server: readable output, --json, exit codes, and
errors a person can act on (never a traceback)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli as ledger_cli

pytestmark = pytest.mark.e2e

SHOP = "/v1/apps/shop"
SECRET = "hunter2-cli-Qw9"
MIGRATION = "0007-drop-carts"


def build(build_id: str, commit: str) -> dict[str, Any]:
    digest = f"sha256:{commit:0<64}"
    return {
        "build_id": build_id,
        "commit": commit,
        "artifact": {"digest": digest},
        "status": "succeeded",
    }


def seed(api: Any) -> dict[str, Any]:
    """shop: prod runs b2 (v3) after b1 (v2) and config v1; canary has an irreversible migration
    after its v2."""
    api.write("POST", "/v1/apps", {"name": "shop"})
    api.write("POST", f"{SHOP}/builds", build("b1", "a1b2c3d4e5"))
    api.write("POST", f"{SHOP}/builds", build("b2", "f6e5d4c3b2"))
    config = {"set": {"DB_HOST": "db.prod.internal", "DB_PASSWORD": SECRET}}
    api.write("POST", f"{SHOP}/envs/prod/config", config)
    api.write("POST", f"{SHOP}/envs/prod/deploys", {"build_id": "b1"})
    time.sleep(0.05)
    before_b2 = datetime.now(UTC)
    time.sleep(0.05)
    api.write("POST", f"{SHOP}/envs/prod/deploys", {"build_id": "b2"})
    api.write("PUT", f"{SHOP}/envs/prod/flags/new-checkout", {"enabled": True})
    for bid in ("b1", "b2"):
        api.write("POST", f"{SHOP}/envs/canary/deploys", {"build_id": bid})
    migration = {"migration_id": MIGRATION, "schema_version": "7", "reversible": False}
    api.write("POST", f"{SHOP}/envs/canary/migrations", migration)
    api.read(f"{SHOP}/envs/canary")  # the views have caught up with every write
    return {"before_b2": before_b2.isoformat(), "url": api.url}


@pytest.fixture(scope="module")
def seeded(api: Any) -> dict[str, Any]:
    return seed(api)


def no_traceback(done: Any) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


def test_state_prints_release_config_and_flags(cli: Any, seeded: dict[str, Any]) -> None:
    done = cli("state", "shop", "prod", LEDGER_URL=seeded["url"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "shop/prod" in out and "v3" in out and "b2" in out and "f6e5d4c" in out
    assert "DB_HOST" in out and "db.prod.internal" in out
    assert "<secret:" in out and SECRET not in out
    assert "new-checkout" in out


def test_state_json_is_the_servers_answer(cli: Any, seeded: dict[str, Any]) -> None:
    done = cli("state", "shop", "prod", "--json", LEDGER_URL=seeded["url"])
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert {"app", "env", "release", "config", "flags", "schema_version", "position"} <= set(state)
    assert (state["release"]["version"], state["release"]["build_id"]) == (3, "b2")


def test_state_at_a_past_time(cli: Any, seeded: dict[str, Any]) -> None:
    done = cli(
        "state", "shop", "prod", "--at", seeded["before_b2"], "--json", LEDGER_URL=seeded["url"]
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["release"]["build_id"] == "b1"


def test_history_lists_changes_newest_first(cli: Any, seeded: dict[str, Any]) -> None:
    url = seeded["url"]
    table = cli("history", "--app", "shop", "--env", "prod", LEDGER_URL=url)
    assert table.returncode == 0, table.stderr
    assert all(h in table.stdout for h in ("POSITION", "TIME", "KIND", "ACTOR", "SUMMARY"))
    assert "deploy" in table.stdout and "flag" in table.stdout
    deploys = cli(
        "history", "--app", "shop", "--env", "prod", "--kind", "deploy", "--json", LEDGER_URL=url
    )
    items = json.loads(deploys.stdout)["items"]
    assert len(items) == 2 and {i["kind"] for i in items} == {"deploy"}
    positions = [i["position"] for i in items]
    assert positions == sorted(positions, reverse=True)
    assert all(str(p) in table.stdout for p in positions)
    paged = cli("history", "--app", "shop", "--limit", "1", LEDGER_URL=url)
    assert paged.returncode == 0 and "--cursor" in paged.stderr, paged.stderr


def test_releases_lists_every_release(cli: Any, seeded: dict[str, Any]) -> None:
    url = seeded["url"]
    table = cli("releases", "shop", "prod", LEDGER_URL=url)
    assert table.returncode == 0, table.stderr
    assert all(v in table.stdout for v in ("v1", "v2", "v3", "superseded", "succeeded"))
    raw = cli("releases", "shop", "prod", "--json", LEDGER_URL=url)
    versions = sorted(r["version"] for r in json.loads(raw.stdout)["releases"])
    assert versions == [1, 2, 3]


def test_rollback_is_refused_across_a_migration_then_forced(
    cli: Any, seeded: dict[str, Any]
) -> None:
    env = {"LEDGER_URL": seeded["url"], "LEDGER_ACTOR": "alice"}
    refused = cli("rollback", "shop", "canary", "--to", "1", "--reason", "bad deploy", **env)
    assert refused.returncode == 1, refused
    no_traceback(refused)
    assert "rollback refused" in refused.stderr and MIGRATION in refused.stderr
    assert "--force" in refused.stderr and refused.stdout == ""
    forced = cli(
        "rollback", "shop", "canary", "--to", "1", "--reason", "bad deploy", "--force", **env
    )
    assert forced.returncode == 0, forced.stderr
    assert "rolled back shop/canary" in forced.stdout
    assert "v3" in forced.stdout and "rollback of v1" in forced.stdout
    history = cli("history", "--app", "shop", "--kind", "rollback", "--json", **env)
    [item] = json.loads(history.stdout)["items"]
    assert (item["actor"], item["reason"]) == ("alice", "bad deploy")


def test_an_error_answer_is_one_line_and_exit_1(cli: Any, seeded: dict[str, Any]) -> None:
    done = cli("state", "shop", "nowhere", LEDGER_URL=seeded["url"])
    assert done.returncode == 1
    no_traceback(done)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "404" in lines[0], done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("state", "shop", "prod"),
        ("history",),
        ("releases", "shop", "prod"),
        ("rollback", "shop", "prod", "--reason", "x"),
    ],
    ids=lambda args: args[0],
)
def test_an_unreachable_server_is_named_without_a_traceback(
    cli: Any, unused_url: str, args: tuple[str, ...]
) -> None:
    done = cli(*args, LEDGER_URL=unused_url)
    assert done.returncode == 1
    no_traceback(done)
    assert f"cannot reach the ledger at {unused_url}" in done.stderr
    assert "`ledger serve`" in done.stderr and "LEDGER_URL" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("state", "Shop!", "prod"),
        ("state", "shop", "prod", "--at", "yesterday"),
        ("state", "shop", "prod", "--at", "2024-05-07T14:03:00"),
        ("state", "shop"),
        ("rollback", "shop", "prod"),
        ("rollback", "shop", "prod", "--to", "0", "--reason", "x"),
        ("history", "--kind", "nope"),
        ("history", "--limit", "0"),
        ("serve", "--role", "everything"),
        ("no-such-command",),
    ],
)
def test_usage_errors_exit_2_before_any_request(unused_url: str, args: tuple[str, ...]) -> None:
    # In process: argument parsing needs no server, and a subprocess per case is slow.
    done = CliRunner().invoke(
        ledger_cli, list(args), prog_name="ledger", env={"LEDGER_URL": unused_url}
    )
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert "Error:" in done.stderr and "Traceback" not in done.output


def test_every_command_explains_itself() -> None:
    commands = ["serve", "state", "history", "releases", "rollback", "projections rebuild"]
    top = CliRunner().invoke(ledger_cli, ["--help"], prog_name="ledger")
    assert top.exit_code == 0 and all(c.split()[0] in top.stdout for c in commands)
    for command in commands:
        done = CliRunner().invoke(ledger_cli, [*command.split(), "--help"], prog_name="ledger")
        assert done.exit_code == 0, done.output
        assert done.stdout.startswith(f"Usage: ledger {command}"), done.stdout


def test_projections_rebuild_on_a_stopped_servers_store(
    cli: Any, server: Any, server_env: dict[str, str]
) -> None:
    api = server.api()
    api.write("POST", "/v1/apps", {"name": "shop"})
    api.write("POST", f"{SHOP}/builds", build("b1", "a1b2c3d4e5"))
    api.write("POST", f"{SHOP}/envs/prod/deploys", {"build_id": "b1"})
    api.write("PUT", f"{SHOP}/envs/prod/flags/beta", {"enabled": True})
    assert server.stop() == 0, server.log()
    done = cli("projections", "rebuild", **server_env)
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    [count] = [int(w) for w in done.stdout.split() if w.isdigit()]
    assert count >= 4, done.stdout
    server.start()
    state = server.api().read(f"{SHOP}/envs/prod", min_position=api.last_position)
    assert state["release"]["build_id"] == "b1" and state["flags"]["beta"]["enabled"] is True
