"""The system under test: a fresh PostgreSQL database and `ledger serve` as a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

from ledger.bench.report import say

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@asynccontextmanager
async def fresh_database(admin_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server of ``admin_url``, dropped afterwards."""
    name = f"ledger_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await admin.close()
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LedgerProcess:
    """`ledger serve` on a free loopback port, with its log in ``workdir``."""

    def __init__(self, database_url: str, nats_url: str | None, workdir: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        self.env |= {
            "LEDGER_DATABASE_URL": database_url,
            "LEDGER_HUMAN_WRITES_PER_MINUTE": "0",
            "LEDGER_LOG_LEVEL": "WARNING",
        }
        if nats_url:
            self.env["LEDGER_NATS_URL"] = nats_url
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        command = [sys.executable, "-m", "ledger.cli.main", "serve", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        await self._wait_healthy()
        say(f"ledger serve (pid {self.pid}) listening at {self.url}")

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"ledger serve exited at start:\n{self.log_tail()}")
                try:
                    async with session.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"ledger serve not healthy after {START_TIMEOUT}s:\n{self.log_tail()}")

    async def stop(self) -> None:
        """SIGTERM and wait for a graceful exit (kill after STOP_TIMEOUT)."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
            say(f"ledger serve ignored SIGTERM for {STOP_TIMEOUT}s and was killed")

    def rss_mb(self) -> float:
        """The server's resident set size (VmRSS), in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc/<pid>/status")

    def log_tail(self, size: int = 4000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-size:]

    async def readyz(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        async with session.get(self.url + "/readyz") as response:
            body: dict[str, Any] = await response.json()
            return body

    async def settle(self, session: aiohttp.ClientSession, timeout: float = 600.0) -> None:
        """Wait until the views (and the NATS publisher, when on) reach the head of the log."""
        deadline = time.monotonic() + timeout
        last = 0.0
        while True:
            ready = await self.readyz(session)
            lags = {"views": ready["lag"]} | (
                {"nats": ready["nats"]["lag"]} if "nats" in ready else {}
            )
            if not any(lags.values()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the followers did not catch up: {lags}")
            if time.monotonic() - last > 2:
                last = time.monotonic()
                say(f"waiting for the followers to catch up: lag {lags}")
            await asyncio.sleep(0.1)
