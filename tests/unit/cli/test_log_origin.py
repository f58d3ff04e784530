"""A checkpoint origin that C2SP would refuse stops the server before it starts, in one line
that names the variable."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli


@pytest.mark.parametrize("origin", ["my ledger", "ledger+prod", "ledger\u3000prod"])
def test_serve_refuses_a_bad_log_origin_in_one_line(origin: str, tmp_path) -> None:
    env = {"LEDGER_LOG_ORIGIN": origin, "LEDGER_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: a LEDGER_* variable has a bad value: LEDGER_LOG_ORIGIN")
    assert "cannot be a checkpoint origin" in lines[0]
    assert not any(tmp_path.iterdir())  # nothing was created
