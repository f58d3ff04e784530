"""Security end to end: `ledger serve` processes started the way an operator would (including
on 0.0.0.0), tokens managed with the `ledger token` commands against the same store, and the
server's own log output captured for inspection.

The helpers are reached through the fixtures; test modules never import this module.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ...answers import Answer
from ..conftest import Api, Cli, LedgerServer, server_environ

ANSWER_WITHIN = 20.0  # seconds


class Server(LedgerServer):
    """A `ledger serve` subprocess reached with a token per request; it keeps every body it
    answered (``bodies``)."""

    def __init__(self, env: Mapping[str, str], workdir: Path, host: str | None, n: int) -> None:
        super().__init__(env, workdir, host, log_name=f"server-{n}.log")
        self.bodies: list[bytes] = []

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        sent |= dict(headers or {})
        api = Api(self.url, server_log=self.log, timeout=ANSWER_WITHIN)
        answer = api.request(method, path, body, raw=raw, headers=sent)
        self.bodies.append(answer.body)
        return answer

    def write(self, method: str, path: str, body: object, token: str | None = None) -> Any:
        answer = self.request(method, path, body, token=token)
        assert answer.status == 201, f"{answer}\n{self.log()[-3000:]}"
        return answer.json


class Ledger:
    """One store (SQLite files or a PostgreSQL database), the `ledger` command pointed at it,
    and the servers started on it."""

    def __init__(self, env: Mapping[str, str], workdir: Path) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.servers: list[Server] = []

    def command(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return Cli(self.env)(*args, **env)

    def token(self, name: str, kind: str, scopes: str) -> str:
        """`ledger token create`: the token is alone on the last line of stdout."""
        done = self.command("token", "create", "--name", name, "--kind", kind, "--scopes", scopes)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def launch(self, host: str | None = None, **env: str) -> Server:
        """Start `ledger serve` (not waiting for it)."""
        server = Server(self.env | env, self.workdir, host, len(self.servers) + 1)
        self.servers.append(server)
        server.launch()
        return server

    def serve(self, host: str | None = None, **env: str) -> Server:
        server = self.launch(host, **env)
        server.wait_healthy()
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            code = server.stop()
            print(f"--- ledger serve log (exit code {code}) ---\n{server.log()[-4000:]}")


MakeLedger = Callable[..., Ledger]


@pytest.fixture
def sqlite_ledger(data_dir: Path, tmp_path: Path) -> Iterator[Ledger]:
    """A store in SQLite files (LEDGER_DATA_DIR), no writes rate limited."""
    ledger = Ledger(server_environ(data_dir), tmp_path)
    yield ledger
    ledger.stop_all()


@pytest.fixture
def any_ledger(server_env: dict[str, str], tmp_path: Path) -> Iterator[Ledger]:
    """A store on each backend: SQLite files, then a fresh PostgreSQL database."""
    ledger = Ledger(server_env, tmp_path)
    yield ledger
    ledger.stop_all()
