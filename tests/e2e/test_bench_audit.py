"""`python -m ledger.bench.audit` with tiny sizes: it loads a throwaway PostgreSQL database
through the writer, starts `ledger serve` on it, and reports every audit figure (history
pages, point-in-time states, verify) beside its raw reference. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from .conftest import ROOT, base_environ

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
SCENARIOS = {"A bulk load", "B history", "C point in time", "D verify"}


def _databases(admin_url: str) -> set[str]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database").fetchall()
    return {name for (name,) in rows if name.startswith("ledger_bench_audit_")}


def test_a_tiny_run_reports_every_audit_figure_beside_its_raw_reference(
    postgres_admin_url: str, tmp_path: Path
) -> None:
    before = _databases(postgres_admin_url)
    report_path = tmp_path / "audit.json"
    command = [sys.executable, "-m", "ledger.bench.audit", "--database-url", postgres_admin_url]
    command += ["--events", "3000", "--env-events", "1000", "--json", str(report_path)]
    done = subprocess.run(
        command,
        env=base_environ(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    rows = json.loads(report_path.read_text())["rows"]
    assert {row["scenario"] for row in rows} == SCENARIOS
    for row in rows:
        assert row["value"] > 0, row
        assert row["reference"] > 0 and row["reference_of"], row
        assert row["ratio"] == pytest.approx(row["value"] / row["reference"]), row
    targets = {row["figure"].split(",")[0] for row in rows if row["target"]}
    assert {"page p99", "?at= p99", "?release= p99"} <= targets
    assert sum(row["figure"].startswith("ledger verify") for row in rows) == 2
    assert "ledger bench" in done.stdout and "raw reference" in done.stdout  # the table
    assert "[bench" in done.stderr  # progress, on stderr
    assert _databases(postgres_admin_url) == before  # its database was dropped
