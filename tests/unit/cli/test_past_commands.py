"""The state, diff, export and dora commands check their arguments before any request, and
the export's progress counts what it wrote."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from ledger.cli.export import Progress
from ledger.cli.main import cli

UNREACHABLE = {"LEDGER_URL": "http://127.0.0.1:9"}


@pytest.mark.parametrize(
    "args",
    [
        ("state", "shop", "prod", "--at", "2025-03-01T10:00:00Z", "--release", "2"),
        ("state", "shop", "prod", "--release", "0"),
        ("state", "shop", "prod", "--position", "x"),
        ("diff", "shop", "prod"),
        ("diff", "shop", "prod", "1"),
        ("diff", "shop", "prod", "1", "2", "--against-env", "staging"),
        ("diff", "shop", "prod", "--against-env", "Staging!"),
        ("history", "--actor-kind", "robot"),
        ("history", "--via", "fax"),
        ("export", "--format", "xml"),
        ("dora", "shop", "prod", "--days", "0"),
    ],
)
def test_usage_errors_exit_2_before_any_request(args: tuple[str, ...]) -> None:
    done = CliRunner().invoke(cli, list(args), prog_name="ledger", env=UNREACHABLE)
    assert done.exit_code == 2, done.output
    assert "Error:" in done.output and "cannot reach" not in done.output


def test_progress_counts_ndjson_items_across_chunk_boundaries() -> None:
    lines = b"".join(json.dumps({"position": p}).encode() + b"\n" for p in (3, 5, 9))
    progress = Progress(upto=12, fmt="ndjson", stream=io.StringIO())
    for start in range(0, len(lines), 7):
        progress.advance(lines[start : start + 7])
    assert (progress.count, progress.position, progress.bytes) == (3, 9, len(lines))
    assert progress.describe().startswith("exported 3 changes (")
    assert progress.describe().endswith("position 9 of 12, 75%")
