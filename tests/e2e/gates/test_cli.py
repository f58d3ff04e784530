"""The gates through the `ledger` command: `ledger import` sends deploys through the batch API
and `ledger rollback` makes a release, so the same policy applies to them. The CLI talks HTTP,
so one backend shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import Cli, LedgerServer
from .places import CI, Outcome, Place

pytestmark = pytest.mark.e2e

ALWAYS = {"name": "always", "cron": "* * * * *", "duration": "1h"}


@pytest.fixture(scope="module")
def backend() -> str:
    return "sqlite"


def commands_file(tmp_path: Path, *commands: dict[str, object]) -> str:
    path = tmp_path / "commands.ndjson"
    path.write_text("".join(json.dumps(c) + "\n" for c in commands))
    return str(path)


def test_an_imported_deploy_is_held_by_a_freeze_and_named_by_its_line(
    place: Place, cli: Cli, shared_server: LedgerServer, tmp_path: Path
) -> None:
    build = place.build()
    place.policy(freeze=[ALWAYS])
    deploy = {"op": "deploy", "app": place.app, "env": place.env, "build_id": build}
    flag = {"op": "set_flag", "app": place.app, "env": place.env, "flag": "beta", "enabled": True}

    done = cli("import", commands_file(tmp_path, flag, deploy), LEDGER_URL=shared_server.url)

    assert done.returncode == 1, done.stderr
    [refused] = [line for line in done.stderr.splitlines() if line.startswith("line ")]
    assert refused.startswith("line 2: 423") and "'always'" in refused, done.stderr
    assert "imported 1 of 2 commands" in done.stdout
    assert place.version() == 0 and place.denied()["data"]["gate"] == "freeze"


def test_an_imported_deploy_that_needs_approval_waits_as_a_request(
    place: Place, cli: Cli, shared_server: LedgerServer, tmp_path: Path
) -> None:
    build = place.build()
    place.policy(approvals={"required": 1})
    deploy = {"op": "deploy", "app": place.app, "env": place.env, "build_id": build}

    done = cli("import", commands_file(tmp_path, deploy), LEDGER_URL=shared_server.url)

    assert done.returncode == 0, done.stderr
    assert place.version() == 0
    [asked] = place.history(kind="request")
    assert "requested a deploy" in asked["summary"], asked


def test_ledger_rollback_goes_through_a_freeze(
    place: Place, cli: Cli, shared_server: LedgerServer
) -> None:
    place.released(place.build("b1"))
    place.released(place.build("b2"))
    place.policy(freeze=[ALWAYS])

    done = cli(
        "rollback", place.app, place.env, "--reason", "errors after v2",
        LEDGER_URL=shared_server.url, LEDGER_ACTOR="alice",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    current = place.current()
    assert current and (current["version"], current["rollback_of"]) == (3, 1), current


def test_ledger_rollback_that_needs_approval_says_it_waits_and_makes_no_release(
    place: Place, cli: Cli, shared_server: LedgerServer
) -> None:
    place.released(place.build("b1"))
    place.released(place.build("b2"))
    place.policy(approvals={"required": 1})

    done = cli(
        "rollback", place.app, place.env, "--reason", "errors after v2",
        LEDGER_URL=shared_server.url, LEDGER_ACTOR="alice",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert place.version() == 2
    [asked] = place.history(kind="request")
    assert asked["data"]["request_id"] in done.stdout, done.stdout
    assert "rolled back" not in done.stdout, done.stdout
    release = Outcome.of(place.approve(asked["data"]["request_id"], CI)).released()
    assert (release["rollback_of"], release["actor"]) == (1, "alice"), release
