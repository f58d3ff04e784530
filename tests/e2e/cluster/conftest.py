"""Fixtures of the cluster tests: `ledger serve` processes in roles (api, worker) on one
PostgreSQL database and one NATS server of the test's own, which the tests kill and restart."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ..conftest import LedgerServer, fresh_database, server_environ
from .postgres import PostgresServer, Workspace

OWNER = re.compile(r'^ledger_follower_owner\{follower="([^"]+)"\} 1\.0$', re.MULTILINE)


class Cluster:
    """Ledger processes sharing one store: each has a name, a role and a port of its own."""

    def __init__(self, env: dict[str, str], root: Path) -> None:
        self.env = env
        self.root = root
        self.servers: dict[str, LedgerServer] = {}

    def start(self, **roles: str) -> None:
        """Start a server per name=role, all at once; return when every one is healthy."""
        for name in roles:
            (self.root / name).mkdir(exist_ok=True)
        made = {
            n: LedgerServer(self.env | {"LEDGER_ROLE": r}, self.root / n) for n, r in roles.items()
        }
        self.servers |= made  # stopped at the end even when another one fails to start
        with ThreadPoolExecutor(len(made)) as pool:
            list(pool.map(LedgerServer.start, made.values()))

    def __getitem__(self, name: str) -> LedgerServer:
        return self.servers[name]

    def owned_by(self, name: str) -> set[str]:
        """The followers the server owns now (from its /metrics)."""
        with urllib.request.urlopen(self.servers[name].url + "/metrics", timeout=5) as response:
            return set(OWNER.findall(response.read().decode()))

    def owner_of(self, follower: str, names: list[str]) -> str | None:
        owners = [n for n in names if follower in self.owned_by(n)]
        assert len(owners) <= 1, f"{follower} has two active owners: {owners}"
        return owners[0] if owners else None

    def kill(self, name: str) -> None:
        """kill -9: no shutdown at all."""
        process = self.servers[name].process
        assert process is not None
        process.kill()
        process.wait()

    def stop(self) -> None:
        """Stop every server (SIGTERM) and print its log."""
        for name, server in self.servers.items():
            code, role = server.stop(), server.env["LEDGER_ROLE"]
            print(f"--- {name} ({role}), exit code {code} ---\n{server.tail()}")
        self.servers.clear()


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    """Where a test makes PostgreSQL servers of its own."""
    made = Workspace()
    yield made
    made.close()


@pytest.fixture
def postgres(workspace: Workspace) -> PostgresServer:
    """A PostgreSQL server of this test's own (a cluster holds more connections than a shared
    server may have left), which the test may crash and start again."""
    server = workspace.server("primary")
    server.start()
    return server


@pytest.fixture
def cluster_env(postgres: PostgresServer, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment every process of a cluster shares: one new database."""
    with fresh_database(postgres.admin_url) as url:
        yield server_environ(tmp_path / "unused") | {"LEDGER_DATABASE_URL": url}


@pytest.fixture
def cluster(cluster_env: dict[str, str], tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(cluster_env, tmp_path)
    yield running
    running.stop()
