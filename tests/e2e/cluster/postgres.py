"""A throwaway PostgreSQL server of a test's own: made with initdb in a temporary directory on
a free port, which the test may crash (``pg_ctl stop -m immediate``) and start again, and which
can get a streaming replica (``pg_basebackup -R``). As root it runs as the user ``nobody``."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ...servers import free_port

RUN_AS = "nobody"


def postgres_bin() -> Path | None:
    """The directory of initdb, pg_ctl and pg_basebackup, if a PostgreSQL server is installed."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if all((directory / name).exists() for name in ("initdb", "pg_ctl", "pg_basebackup")):
            return directory
    return None


class PostgresServer:
    """One PostgreSQL server (a primary, or a standby of one) in a directory of its own."""

    def __init__(self, root: Path, name: str) -> None:
        binaries = postgres_bin()
        if binaries is None:
            pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) are installed")
        self.bin = binaries
        self.dir = root / name
        self.dir.mkdir()
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, RUN_AS)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", RUN_AS, "--", *command]
        done = subprocess.run(command, cwd="/", capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.log()
            raise RuntimeError(f"{tool} failed:\n{done.stdout}{done.stderr}\n{log}")

    def init(self) -> PostgresServer:
        self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-locale",
            "-E",
            "UTF8",
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        options += " -c max_connections=200"  # each ledger process holds up to ~25
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                 "-w", "-t", "30", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` is a crash (no checkpoint, recovery at next start)."""
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def standby(self, root: Path, name: str) -> PostgresServer:
        """A streaming replica of this (running) server, started."""
        replica = PostgresServer(root, name)
        replica.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                    "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        replica.start()
        return replica

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log(self) -> str:
        path = self.dir / "log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


class Workspace:
    """A temporary directory that the user the servers run as may traverse."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
        self.root.chmod(0o711)
        self.servers: list[PostgresServer] = []

    def server(self, name: str) -> PostgresServer:
        server = PostgresServer(self.root, name).init()
        self.servers.append(server)
        return server

    def standby_of(self, primary: PostgresServer, name: str) -> PostgresServer:
        server = primary.standby(self.root, name)
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in reversed(self.servers):
            if server.is_running():
                with contextlib.suppress(RuntimeError):
                    server.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
