"""`ledger import FILE` against a real server: a malformed line is named by its number and the
others are imported; an interrupted import is resumed (--skip N, or the whole file again)
without appending anything twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

BUILD = {"build_id": "b1", "commit": "abc1234", "status": "succeeded"}
COMMANDS = [
    {"op": "create_app", "app": "shop"},
    {"op": "record_build", "app": "shop", **BUILD, "artifact": {"digest": "sha256:aa"}},
    {"op": "deploy", "app": "shop", "env": "qa", "build_id": "b1"},
    {"op": "set_flag", "app": "shop", "env": "qa", "flag": "beta", "enabled": True},
    {"op": "set_flag", "app": "shop", "env": "qa", "flag": "beta", "enabled": False},
    {"op": "set_flag", "app": "shop", "env": "qa", "flag": "beta", "enabled": True},
    {"op": "deploy", "app": "shop", "env": "prod", "build_id": "b1"},
]


def write_file(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def head(server: Any) -> int:
    position: int = server.api().get("/readyz").json["head"]
    return position


def flips(server: Any) -> list[bool]:
    """The beta flag's values in qa, oldest first."""
    items = server.api().read("/v1/history", app="shop", kind="flag", limit=50)["items"]
    return [i["data"]["enabled"] for i in reversed(items)]


def test_a_malformed_line_is_named_by_its_number_and_the_rest_imported(
    cli: Any, server: Any, tmp_path: Path
) -> None:
    lines = [json.dumps(c) for c in COMMANDS]
    lines[3:3] = ["", '{"op": "set_flag", "app": "shop",', "[1, 2]"]  # lines 4 (blank), 5, 6
    file = write_file(tmp_path / "commands.ndjson", lines)

    done = cli("import", str(file), "--chunk", "2", LEDGER_URL=server.url)

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    refused = [line for line in done.stderr.splitlines() if line.startswith("line ")]
    assert [r.split(":")[0] for r in refused] == ["line 5", "line 6"], done.stderr
    assert "not JSON" in refused[0] and "not a JSON object" in refused[1]
    assert "imported 7 of 9 commands" in done.stdout
    assert flips(server) == [True, False, True]


def test_an_interrupted_import_resumes_without_appending_twice(
    cli: Any, server: Any, tmp_path: Path
) -> None:
    lines = [json.dumps(c) for c in COMMANDS]
    first_part = write_file(tmp_path / "part.ndjson", lines[:4])  # the run that was cut short
    file = write_file(tmp_path / "commands.ndjson", lines)
    assert cli("import", str(first_part), LEDGER_URL=server.url).returncode == 0

    whole_again = cli("import", str(file), "--chunk", "3", LEDGER_URL=server.url)
    assert whole_again.returncode == 0, whole_again.stderr
    assert "imported 7 of 7 commands (4 imported before)" in whole_again.stdout
    assert flips(server) == [True, False, True]
    after = head(server)

    again = cli("import", str(file), LEDGER_URL=server.url)
    assert "(7 imported before)" in again.stdout, again.stdout
    skipped = cli("import", str(file), "--skip", "5", LEDGER_URL=server.url)
    assert "imported 2 of 2 commands (2 imported before)" in skipped.stdout, skipped.stdout
    assert head(server) == after


def test_an_unreachable_server_names_where_to_resume(
    cli: Any, unused_url: str, tmp_path: Path
) -> None:
    file = write_file(tmp_path / "commands.ndjson", [json.dumps(c) for c in COMMANDS])
    done = cli("import", str(file), "--skip", "2", LEDGER_URL=unused_url)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "stopped before line 3: resume with `ledger import --skip 2 FILE`" in done.stderr
