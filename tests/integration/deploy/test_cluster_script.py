"""scripts/cluster, as a user runs it on a machine without a PostgreSQL server: it makes a
throwaway one, starts two API processes and two workers on it and on NATS, with tokens
required; a write through one API is read through the other; Ctrl-C stops all of it and
deletes what it made. (Its own PostgreSQL, too, keeps the four processes' connections off
the shared test server.)"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.nats]


def has_postgres_server() -> bool:
    """Whether initdb is here (scripts/cluster can also install it with apt-get as root)."""
    found = shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return bool(found) or os.geteuid() == 0


READY_WITHIN = 240.0  # it may (re)install .venv first
STOPPED_WITHIN = 90.0
READY_LINE = "Running; Ctrl-C stops everything."


def free_base_port() -> int:
    """A port P with P..P+3 free on 127.0.0.1 right now."""
    for _ in range(50):
        base = random.randrange(20000, 60000)
        try:
            for port in range(base, base + 4):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError("no four consecutive free ports")


class Cluster:
    """scripts/cluster running in the background; its output collected line by line."""

    def __init__(self, root: Path, env: dict[str, str], base: int) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(root / "scripts" / "cluster"), "--port", str(base)],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while READY_LINE not in self.lines:
            exited = self.process.poll()
            assert exited is None, f"scripts/cluster exited ({exited}):\n{self.output}"
            assert time.monotonic() < deadline, f"not ready in {READY_WITHIN}s:\n{self.output}"
            time.sleep(0.2)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def value(self, pattern: str) -> str:
        found = re.search(pattern, self.output, re.M)
        assert found, f"{pattern!r} not in:\n{self.output}"
        return found.group(1)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=STOPPED_WITHIN)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.reader.join(timeout=5)
            assert self.process.stdout is not None
            self.process.stdout.close()


def call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def refused_without_token(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=10)
    except urllib.error.HTTPError as error:
        return error.code == 401
    return False


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(not has_postgres_server(), reason="no PostgreSQL server binaries (initdb)")
def test_cluster_serves_through_both_apis_and_stops_on_ctrl_c(root: Path, nats_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env |= {"LEDGER_CLUSTER_FORCE_INITDB": "1", "LEDGER_NATS_URL": nats_url}
    base = free_base_port()
    cluster = Cluster(root, env, base)
    try:
        cluster.wait_until_ready()
        token = cluster.value(r"^admin token: (\S+)$")
        logs = Path(cluster.value(r"^  logs +(\S+)$"))
        assert "throwaway cluster" in cluster.value(r"^  PostgreSQL +(.+)$")
        pids = [
            int(p) for p in re.findall(r"^  (?:api|worker)-\d .* pid (\d+)$", cluster.output, re.M)
        ]
        api_1, api_2 = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"

        written = call("POST", f"{api_1}/v1/apps", token, {"name": "shop"})
        read = call("GET", f"{api_2}/v1/apps?min_position={written['position']}", token)

        assert [app["name"] for app in read["apps"]] == ["shop"]
        assert refused_without_token(f"{api_2}/v1/apps")
        assert len(pids) == 4 and all(map(running, pids))
    finally:
        exit_code = cluster.stop()

    assert exit_code == 130, cluster.output  # stopped by Ctrl-C, everything cleaned up
    assert not any(map(running, pids)), cluster.output
    assert not logs.parent.exists()  # its working directory, PostgreSQL's data included
