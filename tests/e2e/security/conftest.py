"""Security end to end: `ledger serve` processes started the way an operator would (including
on 0.0.0.0), tokens managed with the `ledger token` commands against the same store, and the
server's own log output captured for inspection.

The helpers are reached through the fixtures; test modules never import this module.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_environ() -> dict[str, str]:
    """This process's environment without LEDGER_* settings, with the project importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONWARNINGS"] = "ignore"
    env["COLUMNS"] = "200"
    return env


class Reply:
    """One HTTP answer."""

    def __init__(self, method: str, url: str, status: int, headers: Any, body: bytes) -> None:
        self.method, self.url, self.status, self.body = method, url, status, body
        self.headers = {k.lower(): v for k, v in dict(headers).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"{self.method} {self.url} → {self.status} {self.body[:600]!r}"


class Server:
    """A `ledger serve` subprocess; its stdout and stderr go to one log file."""

    def __init__(self, env: Mapping[str, str], workdir: Path, host: str | None) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.host = host
        self.port = free_port()
        self.log_path = workdir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.bodies: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "ledger.cli.main", "serve", "--port", str(self.port)]
        if self.host is not None:
            command += ["--host", self.host]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self.workdir, stdout=self._log, stderr=subprocess.STDOUT
        )
        return self.process

    def wait_healthy(self) -> Server:
        deadline = time.monotonic() + START_TIMEOUT
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"`ledger serve` exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"`ledger serve` not healthy after {START_TIMEOUT}s:\n{self.log()}")

    def stop(self) -> int | None:
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json"} if data is not None else {}
        sent |= {"Authorization": f"Bearer {token}"} if token else {}
        sent |= dict(headers or {})
        request = urllib.request.Request(self.url + path, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                reply = Reply(method, path, response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                reply = Reply(method, path, error.code, error.headers, error.read())
        self.bodies.append(reply.body)
        return reply

    def write(self, method: str, path: str, body: object, token: str | None = None) -> Any:
        reply = self.request(method, path, body, token=token)
        assert reply.status == 201, f"{reply}\n{self.log()[-3000:]}"
        return reply.json


class Ledger:
    """One store (SQLite files or a PostgreSQL database), the `ledger` command pointed at it,
    and the servers started on it."""

    def __init__(self, env: Mapping[str, str], workdir: Path) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.servers: list[Server] = []
        self.outputs: list[str] = []  # everything the CLI printed

    def command(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "ledger.cli.main", *args],
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.outputs += [done.stdout, done.stderr]
        print(f"$ ledger {' '.join(args)}  → {done.returncode}\n{done.stdout}{done.stderr}")
        return done

    def token(self, name: str, kind: str, scopes: str) -> str:
        """`ledger token create`: the token is alone on the last line of stdout."""
        done = self.command("token", "create", "--name", name, "--kind", kind, "--scopes", scopes)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def launch(self, host: str | None = None, **env: str) -> Server:
        """Start `ledger serve` (not waiting for it)."""
        server = Server(self.env | env, self.workdir, host)
        server.launch()
        self.servers.append(server)
        return server

    def serve(self, host: str | None = None, **env: str) -> Server:
        return self.launch(host, **env).wait_healthy()

    def stop_all(self) -> None:
        for server in self.servers:
            code = server.stop()
            print(f"--- ledger serve log (exit code {code}) ---\n{server.log()[-4000:]}")


MakeLedger = Callable[..., Ledger]


@pytest.fixture
def sqlite_ledger(data_dir: Path, tmp_path: Path) -> Iterator[Ledger]:
    """A store in SQLite files (LEDGER_DATA_DIR), no writes rate limited."""
    env = clean_environ() | {"LEDGER_DATA_DIR": str(data_dir)}
    ledger = Ledger(env | {"LEDGER_HUMAN_WRITES_PER_MINUTE": "0"}, tmp_path)
    yield ledger
    ledger.stop_all()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def any_ledger(request: pytest.FixtureRequest, data_dir: Path, tmp_path: Path) -> Iterator[Ledger]:
    """A store on each backend: SQLite files, then a fresh PostgreSQL database."""
    env = clean_environ() | {"LEDGER_DATA_DIR": str(data_dir)}
    if request.param == "postgres":
        env["LEDGER_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    ledger = Ledger(env | {"LEDGER_HUMAN_WRITES_PER_MINUTE": "0"}, tmp_path)
    yield ledger
    ledger.stop_all()
