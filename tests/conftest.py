"""Infrastructure fixtures shared by the whole test suite.

scripts/test provides the services and exports their URLs:

- ``LEDGER_TEST_DATABASE_URL``: admin URL of a PostgreSQL server; each test that asks for
  ``postgres_url`` gets a fresh database created from it and dropped afterwards.
- ``LEDGER_TEST_NATS_URL``: URL of a NATS server with JetStream.

A test that must stop NATS, or own a stream that holds its events only, asks for ``own_nats``.

Tests that need a service it was not given are skipped. Domain fixtures belong in the
conftest.py files of the sub-directories (unit/, integration/, e2e/).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from .servers import NatsServer

SLOWEST_FIRST = (
    "tests/e2e/security/test_schemathesis.py",
    "tests/e2e/test_dashboard_overview.py",
    "tests/e2e/security/test_secret_channels.py",
    "tests/e2e/test_witnesses.py",
    "tests/e2e/cluster/",
    "tests/e2e/test_bench_smoke.py",
    "tests/e2e/test_ci_cli.py",
    "tests/e2e/security/test_runtime_reporters.py",
    "tests/e2e/test_storage.py",
    "tests/e2e/test_gates_cli.py",
    "tests/e2e/test_bench_audit.py",
    "tests/e2e/test_shutdown.py",
    "tests/e2e/test_writes_cli.py",
    "tests/integration/deploy/test_cluster_script.py",
)
"""The test files that take longest, as measured (pytest --durations): handed out first, so that
the parallel workers (each takes whole files) do not wait on one of them at the end."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the slowest files first; the order of tests within a file is kept."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next(
            (i for i, slow in enumerate(SLOWEST_FIRST) if path.startswith(slow)),
            len(SLOWEST_FIRST),
        )

    items.sort(key=rank)


def _service_url(variable: str, service: str) -> str:
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"{service} not available: {variable} is unset; run tests with scripts/test")
    return url


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """URL of a PostgreSQL role that may create databases."""
    return _service_url("LEDGER_TEST_DATABASE_URL", "PostgreSQL")


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """URL of a new, empty database (``ledger_test_<hex>``), dropped afterwards: per test
    through ``postgres_url``, or for a server a whole module shares."""
    database = f"ledger_test_{uuid.uuid4().hex}"
    create = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(create.format(sql.Identifier(database)))
    try:
        yield _with_database(admin_url, database)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(drop.format(sql.Identifier(database)))


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """URL of a new, empty database, dropped after the test."""
    with fresh_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def nats_url() -> str:
    """URL of a NATS server with JetStream enabled."""
    return _service_url("LEDGER_TEST_NATS_URL", "NATS")


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A NATS server of this test's own, which the test may stop and start again: its stream
    LEDGER holds this test's events only."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty directory for SQLite files (LEDGER_DATA_DIR)."""
    path = tmp_path / "data"
    path.mkdir()
    return path
