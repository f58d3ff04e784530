"""Concurrent clients for the crash and shutdown tests: threads that deploy, flip flags, change
config and read state in a few environments through one or more ledger servers, and remember
every write that was acknowledged (and every answer of any request)."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

APP = "shop"
ENVS = ("dev", "qa", "stage", "perf")
BUILDS = ("b1", "b2", "b3")
ACTOR = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
REQUEST_TIMEOUT = 30.0  # a write may ride through a short database restart
UNREACHABLE = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class Ack:
    """A write the ledger acknowledged (2xx): it must be in the log."""

    position: int
    event_id: str
    env: str
    op: str
    version: int | None  # the release it made, if any


@dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic()
    status: int | str  # the HTTP status, or the name of the connection error
    retry_after: str | None


def call(url: str, method: str, path: str, body: object = None) -> tuple[int, dict[str, Any], Any]:
    """One JSON request: status, headers and decoded body (raises on connection errors)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **ACTOR}
    request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            raw = error.read()
            return error.code, dict(error.headers), json.loads(raw) if raw else None


def prepare(url: str) -> None:
    """The app and its builds, which the deploys pick from."""
    assert call(url, "POST", "/v1/apps", {"name": APP})[0] == 201
    for build in BUILDS:
        body = {"build_id": build, "commit": f"{build}000", "status": "succeeded",
                "artifact": {"digest": f"sha256:{build}"}}  # fmt: skip
        assert call(url, "POST", f"/v1/apps/{APP}/builds", body)[0] == 201


OPS = ("deploy", "flag", "config", "read")


def _request(
    rng: random.Random, n: int, client: int, ops: tuple[str, ...]
) -> tuple[str, str, str, object]:
    """A random request of one of ``ops``: (op, method, path, body) in a random environment."""
    env = rng.choice(ENVS)
    base = f"/v1/apps/{APP}/envs/{env}"
    op = rng.choice(ops)
    if op == "read":
        return op, "GET", base, None
    if op == "deploy":
        return op, "POST", f"{base}/deploys", {"build_id": rng.choice(BUILDS)}
    if op == "flag":
        return op, "PUT", f"{base}/flags/f{n % 3}", {"enabled": rng.random() < 0.5}
    return op, "POST", f"{base}/config", {"set": {"N": f"{client}.{n}"}, "reason": "load"}


class Load:
    """``clients`` threads sending requests through ``urls`` in turn until stopped."""

    def __init__(
        self, urls: list[str], clients: int = 8, pause: float = 0.0, ops: tuple[str, ...] = OPS
    ) -> None:
        self.urls = urls
        self.clients = clients
        self.pause = pause
        self.ops = ops
        self.acks: list[Ack] = []
        self.answers: list[Answer] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> Load:
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + 5)

    def statuses(self) -> list[int | str]:
        return [a.status for a in self.answers]

    def failed(self) -> list[int | str]:
        """Answers other than an acknowledgement, a refusal (4xx) or a connection error."""
        return [s for s in self.statuses() if isinstance(s, int) and s >= 500]

    def _client(self, n: int) -> None:
        rng = random.Random(n)
        count = 0
        while not self._stopping.is_set():
            count += 1
            url = self.urls[(n + count) % len(self.urls)]
            op, method, path, body = _request(rng, count, n, self.ops)
            env = path.split("/")[5]
            try:
                status, headers, answer = call(url, method, path, body)
            except UNREACHABLE as error:
                self._record(Answer(time.monotonic(), type(error).__name__, None))
                time.sleep(0.05)
                continue
            self._record(Answer(time.monotonic(), status, headers.get("Retry-After")))
            if 200 <= status < 300 and op != "read":
                release = answer.get("release") or {}
                ack = Ack(answer["position"], answer["event_id"], env, op, release.get("version"))
                with self._lock:
                    self.acks.append(ack)
            time.sleep(self.pause)

    def _record(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)


def log_of(url: str) -> list[dict[str, Any]]:
    """Every published entry of the log, as CloudEvents (GET /v1/events, all pages)."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        status, headers, page = call(url, "GET", f"/v1/events?after={after}&limit=1000")
        assert status == 200, (status, page)
        events.extend(page)
        following = int(headers["Ledger-Next-After"])
        if following == after:
            return events
        after = following
