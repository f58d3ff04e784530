"""`ledger report` as a person or a Deployment runs it: the report it would send, a refusal in
one line, repeated reports that end cleanly on SIGTERM, and usage errors before any request."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import base_environ

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kubernetes"
DIGEST = "sha256:" + "ab" * 32


def test_dry_run_prints_the_report_of_kubectl_output_from_stdin(cli: Any) -> None:
    pods = (FIXTURES / "not-running.json").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", "report", "kubernetes", "--env", "prod",
         "--from", "-", "--reporter", "k8s:prod-eu", "--app-label", "run", "--dry-run"],
        input=pods, env=base_environ(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["reporter"] == "k8s:prod-eu" and body["env"] == "prod" and body["complete"]
    assert [w["app"] for w in body["workloads"]] == ["debug-shell"]
    assert "skipped shop-nightly-29001234-hij56: no run label" in done.stderr


def test_a_static_report_is_partial_and_shares_one_digest(cli: Any) -> None:
    done = cli(
        "report", "static", "--env", "prod", "--app", "shop", "--digest", DIGEST,
        "--instance", "vm-1", "--instance", "vm-2", "--dry-run",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["complete"] is False and body["reporter"] == "static:shop"
    assert body["workloads"] == [
        {
            "app": "shop",
            "instances": [
                {"id": "vm-1", "artifact_digest": DIGEST},
                {"id": "vm-2", "artifact_digest": DIGEST},
            ],
        }
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("static", "--env", "prod", "--app", "shop", "--digest", "sha256:abc"),
        ("static", "--env", "prod", "--app", "shop", "--digest", DIGEST, "--digest", DIGEST,
         "--instance", "a", "--instance", "b", "--instance", "c"),
        ("kubernetes", "--env", "Prod", "--from", "-"),
        ("kubernetes", "--env", "prod", "--every", "soon", "--from", "-"),
    ],
    ids=["bad-digest", "instances-for-digests", "bad-env", "bad-every"],
)  # fmt: skip
def test_usage_errors_exit_2_before_any_request(cli: Any, unused_url: str, args: Any) -> None:
    done = cli("report", *args, LEDGER_URL=unused_url)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


class Refusing(BaseHTTPRequestHandler):
    """A ledger that refuses every report with an RFC 9457 problem."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(
            {"title": "Forbidden", "status": 403, "detail": "token lacks scope runtime:write"}
        ).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refusal_is_its_detail_in_one_line_and_exit_1(cli: Any, refusing_url: str) -> None:
    done = cli(
        "report", "kubernetes", "--env", "prod", "--from", str(FIXTURES / "rollout.json"),
        LEDGER_URL=refusing_url, LEDGER_TOKEN="t",
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "token lacks scope runtime:write" in lines[0], done.stderr


def test_every_reports_again_until_sigterm_and_logs_one_line_each() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", "report", "kubernetes", "--env", "prod",
         "--from", str(FIXTURES / "crashloop.json"), "--every", "0.2s", "--dry-run"],
        env=base_environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    logged = [json.loads(process.stderr.readline()) for _ in range(2)]
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=10)
    assert process.returncode == 0, rest
    assert "Traceback" not in rest
    first = logged[0]
    assert first["message"] == "report sent" and first["env"] == "prod"
    assert first["instances"] == 1
    assert first["skipped"] == [
        {"pod": "shop-5f6b8c9d7-pqr12", "reason": "container 'shop' has no image digest yet"}
    ]


def test_with_every_a_refused_round_is_logged_and_the_next_one_tried(refusing_url: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", "report", "kubernetes", "--env", "prod",
         "--from", str(FIXTURES / "rollout.json"), "--every", "0.2s"],
        env=base_environ() | {"LEDGER_URL": refusing_url}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    logged = [json.loads(process.stderr.readline()) for _ in range(2)]
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=10)
    assert process.returncode == 0, rest
    assert [entry["level"] for entry in logged] == ["error", "error"]
    assert all("token lacks scope runtime:write" in entry["error"] for entry in logged)
