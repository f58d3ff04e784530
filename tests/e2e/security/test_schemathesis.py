"""Schemathesis against /openapi.json of a live `ledger serve` (SQLite, with a token): generated
requests, valid and invalid, for every operation. No answer may be a server error, and every
answer must match the documented content type and schema.

Bounded: 20 examples per operation (coverage, fuzzing and stateful phases), a fixed seed, about
a minute. /v1/feed is left out (a stream that never ends). No answer is exempt: a
``min_position`` beyond the head of the log is a 422 at once, not a wait and a 503.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import schemathesis

pytestmark = pytest.mark.e2e

Ledger = Any
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
RUN_LIMIT_SECONDS = 240


def seed(server: Any, token: str) -> None:
    """Something for the generated requests to find."""
    server.write("POST", "/v1/apps", {"name": "shop"}, token)
    build = {"build_id": "b1", "commit": "a1b2c3d4", "status": "succeeded",
             "artifact": {"digest": "sha256:" + "a" * 64},
             "pipeline": {"name": "main", "run_id": "1"}}  # fmt: skip
    server.write("POST", "/v1/apps/shop/builds", build, token)
    server.write("POST", "/v1/apps/shop/envs/staging/deploys", {"build_id": "b1"}, token)
    server.write("POST", "/v1/apps/shop/envs/staging/config", {"set": {"A": "1"}}, token)


def failures(events_path: Path) -> list[dict[str, Any]]:
    """Every failed check of the run: the check, the request and what came back."""
    found = []
    for line in events_path.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                interaction = (recorder.get("interactions") or {}).get(case_id) or {}
                response = interaction.get("response") or {}
                content = (response.get("content") or {}).get("$base64", "")
                case = (recorder.get("cases") or {}).get(case_id, {}).get("value", {})
                found.append({
                    "check": check["name"],
                    "request": f"{case.get('method')} {interaction.get('request', {}).get('uri')}",
                    "body": json.dumps(case.get("body"))[:300],
                    "status": response.get("status_code"),
                    "answer": base64.b64decode(content)[:400].decode(errors="replace"),
                    "phase": finished["phase"],
                })  # fmt: skip
    return found


def test_generated_requests_get_documented_answers_and_never_a_server_error(
    sqlite_ledger: Ledger, tmp_path: Path
) -> None:
    token = sqlite_ledger.token("fuzzer", "system", "admin")
    server = sqlite_ledger.serve(LEDGER_READ_WAIT_SECONDS="0.2")
    seed(server, token)
    events = tmp_path / "schemathesis.ndjson"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
        "--checks", CHECKS, "--max-examples", "20", "--seed", "20240507",
        "--header", f"Authorization: Bearer {token}", "--exclude-path", "/v1/feed",
        "--workers", "4", "--request-timeout", "10", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(events),
    ]  # fmt: skip
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_LIMIT_SECONDS
    )
    print(run.stdout[-20000:], run.stderr[-5000:])
    assert events.exists(), f"schemathesis {schemathesis.__version__} did not run:\n{run.stderr}"

    unexpected = failures(events)

    assert unexpected == [], "\n".join(json.dumps(f) for f in unexpected)
    assert "Traceback" not in run.stderr, run.stderr
