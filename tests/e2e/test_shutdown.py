"""SIGTERM stops a server gracefully: it stops taking connections, answers the requests in
flight, ends the change feed's streams, finishes what its followers are doing and exits 0,
within LEDGER_SHUTDOWN_TIMEOUT_SECONDS. Every write it acknowledged is in the log."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import LedgerServer, running
from .load import Load, log_of, prepare

pytestmark = pytest.mark.e2e
SHUTDOWN_TIMEOUT = 5.0


class FeedReader(threading.Thread):
    """A client of GET /v1/feed that reads until the server ends the stream."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.ended_at: float | None = None
        self.events = 0

    def run(self) -> None:
        with urllib.request.urlopen(self.url + "/v1/feed?after=0", timeout=30) as stream:
            for line in stream:
                self.events += line.startswith(b"id:")
        self.ended_at = time.monotonic()


def test_sigterm_under_load_answers_what_is_in_flight_and_exits_0_in_time(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    env = server_env | {"LEDGER_SHUTDOWN_TIMEOUT_SECONDS": str(SHUTDOWN_TIMEOUT)}
    server = LedgerServer(env, tmp_path).start()
    try:
        prepare(server.url)
        feed = FeedReader(server.url)
        feed.start()
        load = Load([server.url], clients=8).start()
        time.sleep(1.5)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = server.process.wait(SHUTDOWN_TIMEOUT + 5)
        took = time.monotonic() - signalled
        load.stop()
        feed.join(5)
    finally:
        server.stop()

    print(f"exit {code} after {took:.2f}s with {len(load.acks)} writes acknowledged")
    assert code == 0, server.log()
    assert took < SHUTDOWN_TIMEOUT, f"took {took:.1f}s to exit\n{server.log()}"
    assert feed.ended_at is not None and feed.ended_at - signalled < SHUTDOWN_TIMEOUT
    assert len(load.acks) > 20, load.statuses()
    assert load.failed() == [], load.statuses()

    with running(env, tmp_path) as again:
        logged = {event["id"] for event in log_of(again.url)}
    missing = [ack for ack in load.acks if ack.event_id not in logged]
    assert missing == [], f"acknowledged but not in the log: {missing}"


def _write_forever(url: str) -> None:
    """A write whose body never arrives in full: its handler waits for the rest."""
    head = b"POST /v1/apps HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\n"
    port = int(url.rsplit(":", 1)[1])
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 30) as conn:
        conn.sendall(head + b"Content-Length: 100\r\n\r\n{")
        conn.recv(1)  # until the server answers or cuts the connection off at the exit


def test_a_request_that_outlasts_the_timeout_does_not_hold_the_exit_up(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    env = server_env | {
        "LEDGER_SHUTDOWN_TIMEOUT_SECONDS": "2",
        "LEDGER_BODY_TIMEOUT_SECONDS": "60",  # a write that waits for its body that long
    }
    server = LedgerServer(env, tmp_path).start()
    try:
        waiting = threading.Thread(target=_write_forever, args=(server.url,), daemon=True)
        waiting.start()
        time.sleep(0.5)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = server.process.wait(15)
        took = time.monotonic() - signalled
    finally:
        server.stop()
    assert code == 0, server.log()
    # the write alone would hold the exit up for 60 s; the margin is for a busy machine
    assert took < 2 + 8, f"took {took:.1f}s to exit\n{server.log()}"
