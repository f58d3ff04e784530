"""What must hold after a crash: every acknowledged write is in the log, releases are numbered
without gaps, the views equal a rebuild from the log, NATS carried every event exactly once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import nats
import psycopg
from nats.aio.msg import Msg
from psycopg import sql

from ledger.jetstream.publisher import ensure_stream

from ..conftest import base_environ
from ..load import APP, ENVS, Ack, call

VIEW_TABLES = {
    "ledger_view_apps": "name",
    "ledger_view_state": "app, env",
    "ledger_view_releases": "app, env, version",
    "ledger_view_history": "position",
}


def caught_up(url: str, position: int, seconds: float = 30) -> None:
    """Wait until the views behind ``url`` include ``position``."""
    deadline = time.monotonic() + seconds
    while True:
        status, _, _ = call(url, "GET", f"/v1/history?limit=1&min_position={position}")
        if status == 200:
            return
        assert time.monotonic() < deadline, f"the views never reached position {position}"


def assert_acknowledged_in_log(acks: list[Ack], log: list[dict[str, Any]]) -> None:
    at = {event["id"]: event["ledgerposition"] for event in log}
    missing = [a for a in acks if a.event_id not in at]
    assert missing == [], f"{len(missing)} acknowledged writes are not in the log: {missing[:5]}"
    moved = [a for a in acks if at[a.event_id] != a.position]
    assert moved == [], f"acknowledged at another position than the log's: {moved[:5]}"


def assert_releases_numbered_without_gaps(url: str, acks: list[Ack], head: int) -> None:
    for env in ENVS:
        path = f"/v1/apps/{APP}/envs/{env}/releases?min_position={head}"
        status, _, body = call(url, "GET", path)
        if status == 404:  # no write reached this environment
            assert not [a for a in acks if a.env == env]
            continue
        assert status == 200, body
        versions = sorted(r["version"] for r in body["releases"])
        assert versions == list(range(1, len(versions) + 1)), f"{env}: {versions}"
        acked = Counter(a.version for a in acks if a.env == env and a.version is not None)
        assert set(acked) <= set(versions), f"{env}: acknowledged {sorted(acked)}"
        twice = [v for v, n in acked.items() if n > 1]
        assert twice == [], f"{env}: releases acknowledged twice: {twice}"


def assert_views_equal_a_rebuild(admin_url: str, database_url: str) -> None:
    """Copy the database (its events), rebuild the copy's views with `ledger projections
    rebuild`, and compare every view table row by row. Run it with every process stopped."""
    source = urlsplit(database_url).path.lstrip("/")
    copy = f"ledger_rebuilt_{uuid.uuid4().hex}"
    _create_copy(admin_url, source, copy)
    copy_url = urlunsplit(urlsplit(database_url)._replace(path=f"/{copy}"))
    try:
        environ = base_environ() | {"LEDGER_DATABASE_URL": copy_url}
        command = [sys.executable, "-m", "ledger.cli.main", "projections", "rebuild"]
        done = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        for table, key in VIEW_TABLES.items():
            assert _rows(copy_url, table, key) == _rows(database_url, table, key), table
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy))
            )


def _create_copy(admin_url: str, source: str, copy: str) -> None:
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(copy), sql.Identifier(source)
    )
    deadline = time.monotonic() + 10
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while True:  # the sessions of killed processes may take a moment to end
            try:
                conn.execute(statement)
                return
            except psycopg.errors.ObjectInUse:
                assert time.monotonic() < deadline, "the ledger's database is still in use"
                time.sleep(0.2)


def _rows(url: str, table: str, key: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()


class Subscriber:
    """An ordered consumer of stream LEDGER (ledger.events.>), collecting every message."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._nc: Any = None

    async def open(self, url: str) -> Subscriber:
        self._nc = await nats.connect(url)
        js = self._nc.jetstream()
        await ensure_stream(js)  # the workers find it as they would have made it

        async def collect(msg: Msg) -> None:
            self.events.append(msgspec.json.decode(msg.data))

        await js.subscribe("ledger.events.>", cb=collect, ordered_consumer=True)
        return self

    async def until(self, position: int, seconds: float = 30) -> None:
        """Wait until a message at ``position`` (or later) arrived."""
        deadline = time.monotonic() + seconds
        while not self.events or self.events[-1]["ledgerposition"] < position:
            assert time.monotonic() < deadline, f"NATS delivered up to {self.last}, not {position}"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything sent twice would have arrived by now

    @property
    def last(self) -> int:
        return self.events[-1]["ledgerposition"] if self.events else 0

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.close()

    def assert_exactly_once(self, log: list[dict[str, Any]]) -> None:
        ids = [event["id"] for event in self.events]
        twice = [i for i, n in Counter(ids).items() if n > 1]
        assert twice == [], f"delivered more than once: {twice[:5]}"
        assert ids == [event["id"] for event in log], "NATS and the log differ"
