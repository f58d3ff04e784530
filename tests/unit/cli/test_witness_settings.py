"""LEDGER_WITNESSES: each witness as its URL and its verifier key; a value that is not one
stops the server before it starts, in one line naming the variable."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli
from ledger.domain.notes import COSIGNATURE_V1, verifier_key
from ledger.settings import Settings

W1 = verifier_key("witness.example/w1", bytes(range(32)), COSIGNATURE_V1)
W2 = verifier_key("w2.example.org", bytes(range(1, 33)), COSIGNATURE_V1)


def test_witnesses_are_read_separated_by_commas_or_newlines() -> None:
    value = f"https://witness.example/w1/ {W1},\nhttp://127.0.0.1:8090 {W2}\n"
    settings = Settings.from_env({"LEDGER_WITNESSES": value})
    assert settings.witnesses == (
        ("https://witness.example/w1", W1),
        ("http://127.0.0.1:8090", W2),
    )
    assert Settings.from_env({}).witnesses == ()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (W1, "is not '<http(s) URL> <verifier key>'"),
        ("https://w.example", "is not '<http(s) URL> <verifier key>'"),
        (f"https://w.example {verifier_key('log.example', bytes(32))}", "not a witness's key"),
    ],
    ids=["no-url", "no-key", "a-log-key"],
)
def test_serve_refuses_a_bad_witness_in_one_line(value: str, why: str, tmp_path) -> None:
    env = {"LEDGER_WITNESSES": value, "LEDGER_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: a LEDGER_* variable has a bad value: LEDGER_WITNESSES")
    assert why in line
    assert not any(tmp_path.iterdir())
