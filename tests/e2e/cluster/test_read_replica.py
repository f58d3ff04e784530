"""A real streaming replica (``pg_basebackup -R`` of the test's own PostgreSQL server) as
LEDGER_READ_DATABASE_URL: reads are answered by it; while its replay is paused
``consistency=eventual`` reads show its older state, and plain reads (which include the log's
head) fall back to the primary; resumed, it catches up and answers again."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from ..conftest import running, server_environ
from .postgres import PostgresServer, Workspace

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(90)]
STATE = "/v1/apps/shop/envs/dev"
FLAG = f"{STATE}/flags/checkout"


def _replay(standby: PostgresServer, action: str) -> None:
    with psycopg.connect(standby.admin_url, autocommit=True) as conn:
        conn.execute(f"SELECT pg_wal_replay_{action}()")


def test_a_streaming_replica_answers_reads_and_the_primary_covers_its_lag(
    workspace: Workspace, postgres: PostgresServer, tmp_path: Path
) -> None:
    with psycopg.connect(postgres.admin_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE ledger")
    standby = workspace.standby_of(postgres, "standby")
    env = server_environ(tmp_path / "unused") | {
        "LEDGER_DATABASE_URL": postgres.url("ledger"),
        "LEDGER_READ_DATABASE_URL": standby.url("ledger"),
    }
    (tmp_path / "server").mkdir()
    with running(env, tmp_path / "server") as server:
        api = server.api()
        api.write("POST", "/v1/apps", {"name": "shop"})
        api.write("PUT", FLAG, {"enabled": True})
        assert api.read(STATE)["flags"]["checkout"]["enabled"] is True

        _replay(standby, "pause")
        api.write("PUT", FLAG, {"enabled": False})
        assert api.read(STATE)["flags"]["checkout"]["enabled"] is False  # the primary's
        plain = api.get(STATE)
        assert plain.status == 200 and plain.json["flags"]["checkout"]["enabled"] is False
        eventual = api.get(STATE, consistency="eventual")
        assert eventual.status == 200 and eventual.json["flags"]["checkout"]["enabled"] is True

        _replay(standby, "resume")
        deadline = time.monotonic() + 10
        while api.get(STATE, consistency="eventual").json["flags"]["checkout"]["enabled"]:
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.1)
