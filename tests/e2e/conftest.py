"""End-to-end fixtures: a real `ledger serve` process per backend, a JSON HTTP helper and a
CLI runner. Every test here talks to the ledger the way a client does: over HTTP, or through
the `ledger` command in a subprocess.

Servers that a module shares are started once per backend (``shared_server``); a test that
needs its own, e.g. to stop it, asks for ``server``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import pytest

from ..answers import Answer
from ..conftest import fresh_database
from ..servers import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

PROBE = "/v1/apps/probe/envs/probe/flags/probe"


def base_environ() -> dict[str, str]:
    """This process's environment without any LEDGER_* setting, with the project importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["COLUMNS"] = "200"  # rich tables wide enough that cells never wrap in assertions
    env["PYTHONWARNINGS"] = "ignore"  # a library warning on stderr is not the CLI's output
    return env


# --------------------------------------------------------------------------------------------
# HTTP


class Api:
    """A small JSON client of the ledger that remembers every body it received."""

    def __init__(
        self, url: str, server_log: Callable[[], str] | None = None, timeout: float = 10.0
    ) -> None:
        self.url = url
        self.server_log = server_log
        self.timeout = timeout
        self.bodies: list[bytes] = []
        self.last_position = 0

    def explain(self, answer: Answer) -> str:
        """The answer, with the end of the server's log when the server failed."""
        if answer.status >= 500 and self.server_log is not None:
            return f"{answer}\n--- server log ---\n{self.server_log()[-3000:]}"
        return repr(answer)

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
    ) -> Answer:
        url = self.url + path
        given = {k: v for k, v in (query or {}).items() if v is not None}
        if given:
            url += "?" + urlencode(given)
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json"} if data is not None else {}
        sent |= dict(headers or {})
        request = urllib.request.Request(url, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = Answer(
                    method, url, response.status, dict(response.headers), response.read()
                )
        except urllib.error.HTTPError as error:
            with error:
                answer = Answer(method, url, error.code, dict(error.headers), error.read())
        self.bodies.append(answer.body)
        self._advance(answer)
        return answer

    def _advance(self, answer: Answer) -> None:
        """Remember the position of every write that succeeded, even one that should not have."""
        if answer.status == 201 and answer.content_type == "application/json":
            position = answer.json.get("position")
            if isinstance(position, int):
                self.last_position = max(self.last_position, position)

    def get(self, path: str, **query: object) -> Answer:
        return self.request("GET", path, query=query)

    def read(self, path: str, **query: object) -> Any:
        """GET after every write seen so far (read-your-writes); expects 200 and JSON."""
        query.setdefault("min_position", self.last_position or None)
        answer = self.get(path, **query)
        assert answer.status == 200, self.explain(answer)
        assert answer.content_type == "application/json", answer
        return answer.json

    def write(
        self, method: str, path: str, body: object, *, headers: Mapping[str, str] | None = None
    ) -> Any:
        """A write that must succeed: 201 with a position; returns the JSON answer."""
        answer = self.request(method, path, body, headers=headers)
        assert answer.status == 201, self.explain(answer)
        result = answer.json
        assert isinstance(result.get("position"), int) and result["position"] > 0, answer
        return result

    def history(self, **query: object) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.read("/v1/history", **query)["items"]
        return items

    def assert_nothing_appended(self, since: int | None = None) -> None:
        """Nothing reached the log after ``since`` (default: the last write seen): a probe
        write made now (in the app ``probe``) is all the history has after it."""
        since = self.last_position if since is None else since
        if self.request("PUT", PROBE, {"enabled": True}).status == 404:
            self.write("POST", "/v1/apps", {"name": "probe"})
        probe = self.write("PUT", PROBE, {"enabled": False})
        after = self.history(after=since, limit=100)
        assert probe["position"] in [i["position"] for i in after], after
        assert [i for i in after if i["app"] != "probe"] == [], f"appended after {since}: {after}"


# --------------------------------------------------------------------------------------------
# Servers


class LedgerServer:
    """A `ledger serve` subprocess on a free port (of loopback unless ``host`` says otherwise),
    started and stopped like an operator would; its stdout and stderr go to one log file."""

    def __init__(
        self,
        env: Mapping[str, str],
        workdir: Path,
        host: str | None = None,
        log_name: str = "server.log",
    ) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.host = host
        self.log_path = workdir / log_name
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LedgerServer:
        self.launch()
        self.wait_healthy()
        return self

    def launch(self, *, same_port: bool = False) -> subprocess.Popen[bytes]:
        """Start the process, not waiting for it to answer (``same_port``: where it was)."""
        if not same_port or not self.port:
            self.port = free_port()
        command = [sys.executable, "-m", "ledger.cli.main", "serve", "--port", str(self.port)]
        if self.host is not None:
            command += ["--host", self.host]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self.workdir, stdout=self._log, stderr=subprocess.STDOUT
        )
        return self.process

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        assert self.process is not None
        while time.monotonic() < deadline:
            if (code := self.process.poll()) is not None:
                self.stop()
                pytest.fail(f"`ledger serve` exited with {code}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"`ledger serve` not healthy after {START_TIMEOUT}s:\n{self.tail()}")

    def stop(self) -> int | None:
        """SIGTERM, then wait for a graceful exit (kill after a while); returns the exit code."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"`ledger serve` ignored SIGTERM for {STOP_TIMEOUT}s:\n{self.tail()}")
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def api(self) -> Api:
        return Api(self.url, server_log=self.log)

    def log(self) -> str:
        """Everything the server has written so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self) -> str:
        """The end of the log, enough to tell why a server failed."""
        return self.log()[-8000:]


def server_environ(data_dir: Path) -> dict[str, str]:
    """The environment of a `ledger serve` on SQLite files in ``data_dir`` (add
    LEDGER_DATABASE_URL for PostgreSQL). Tests write faster than a person: no rate limit."""
    return base_environ() | {
        "LEDGER_DATA_DIR": str(data_dir),
        "LEDGER_HUMAN_WRITES_PER_MINUTE": "0",
    }


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of the server under test: SQLite files or PostgreSQL."""
    name: str = request.param
    return name


@contextmanager
def running(env: dict[str, str], workdir: Path) -> Iterator[LedgerServer]:
    server = LedgerServer(env, workdir).start()
    try:
        yield server
    finally:
        code = server.stop()
        print(f"--- ledger serve log (exit code {code}) ---\n{server.tail()}")


@contextmanager
def running_on(
    backend: str, request: pytest.FixtureRequest, workdir: Path, **settings: str
) -> Iterator[LedgerServer]:
    """A server on a fresh store of the backend, with these LEDGER_* ``settings`` besides."""
    env = server_environ(workdir / "data") | settings
    if backend == "postgres":
        admin_url: str = request.getfixturevalue("postgres_admin_url")
        with (
            fresh_database(admin_url) as url,
            running(env | {"LEDGER_DATABASE_URL": url}, workdir) as server,
        ):
            yield server
    else:
        with running(env, workdir) as server:
            yield server


@pytest.fixture(scope="module")
def shared_server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LedgerServer]:
    """One server for the whole module, on a fresh store of the backend."""
    with running_on(backend, request, tmp_path_factory.mktemp(f"ledger-{backend}")) as server:
        yield server


@pytest.fixture
def server_env(backend: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of a server of its own for this test (``data_dir`` / ``postgres_url``)."""
    data_dir: Path = request.getfixturevalue("data_dir")
    env = server_environ(data_dir)
    if backend == "postgres":
        env["LEDGER_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return env


@pytest.fixture
def server(server_env: dict[str, str], tmp_path: Path) -> Iterator[LedgerServer]:
    """A server of this test's own, which the test may stop and start again."""
    with running(server_env, tmp_path) as started:
        yield started


@pytest.fixture(scope="module")
def api(shared_server: LedgerServer) -> Api:
    """A JSON client of the module's server."""
    return shared_server.api()


# --------------------------------------------------------------------------------------------
# CLI


class Cli:
    """Runs `ledger ARGS…` as a user would: a subprocess with its own environment."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "ledger.cli.main", *args],
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        print(f"$ ledger {' '.join(args)}  → {done.returncode}\n{done.stdout}{done.stderr}")
        return done


@pytest.fixture
def cli() -> Cli:
    """The `ledger` command, with no LEDGER_* variable set (tests pass what they need)."""
    return Cli(base_environ())


@pytest.fixture
def unused_url() -> str:
    """A loopback URL on which nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
