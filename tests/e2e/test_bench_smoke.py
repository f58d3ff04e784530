"""`ledger bench --quick`: every scenario runs against real PostgreSQL, NATS and `ledger serve`,
and the JSON report has a figure and a raw reference for each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..servers import NatsServer
from .conftest import ROOT, base_environ

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.nats]
SCENARIOS = {
    "1 single appends",
    "2 batch ingest",
    "3 projection rebuild",
    "4 append latency",
    "5 server memory",
    "6 NATS publishing",
    "7 feed subscribers",
}


def test_a_quick_run_reports_every_scenario_beside_its_raw_reference(
    postgres_admin_url: str, own_nats: NatsServer, tmp_path: Path
) -> None:
    report_path = tmp_path / "bench.json"
    env = base_environ() | {
        "LEDGER_BENCH_DATABASE_URL": postgres_admin_url,
        "LEDGER_BENCH_NATS_URL": own_nats.url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", "bench", "--quick", "--json", str(report_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(report_path.read_text())
    rows = report["rows"]
    assert {row["scenario"] for row in rows} == SCENARIOS
    for row in rows:
        assert row["value"] > 0 or row["unit"] == "MB", row
    assert all(row["reference"] for row in rows if row["figure"].startswith("durable"))
    assert report["machine"]["cpus"] >= 1
    assert "ledger bench" in done.stdout  # the table, on stdout
