"""Schemathesis against /openapi.json of a live `ledger serve` (SQLite, with a token): generated
requests, valid and invalid, for every operation. No answer may be a server error, every answer
must match the documented content type and schema, data outside the documented schema (a name
outside its pattern) is refused, and a method a path does not take is 405 with ``Allow``.

Bounded: 12 examples per operation (coverage, fuzzing and stateful phases), a fixed seed, about
a minute. /v1/feed is left out (a stream that never ends). Two answers are accepted: a
batch with invalid items is 200 with each item refused in its own answer (422), as the batch
route documents, and invalid data in a body too large to read is 413. A ``min_position``
beyond the head of the log is a 422 at once, not a wait and a 503.
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
CHECKS = ",".join(
    (
        "not_a_server_error",
        "response_schema_conformance",
        "content_type_conformance",
        "unsupported_method",  # a method a path does not take: 405 with Allow
        "allow_header_conformance",  # and Allow lists the documented methods
        "negative_data_rejection",  # a path parameter outside its documented pattern: 4xx
    )
)
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
                    "answer": base64.b64decode(content).decode(errors="replace"),
                    "phase": finished["phase"],
                })  # fmt: skip
    return found


def is_batch_item_refused(failure: dict[str, Any]) -> bool:
    """A batch answers 200 with each item's own answer: an invalid item is refused there."""
    answer = failure["answer"]
    in_batch = failure["request"].endswith("/v1/events:batch") and failure["status"] == 200
    if not in_batch:
        return False
    results = json.loads(answer)["results"]
    return bool(results) and all(result["status"] == 422 for result in results)


def is_refused_as_too_large(failure: dict[str, Any]) -> bool:
    """Invalid data in a body over LEDGER_MAX_BODY_BYTES is refused before it is read: 413 (a
    runtime report's nested lists, each one past its limit, add up to more than a megabyte)."""
    return failure["check"] == "negative_data_rejection" and failure["status"] == 413


def test_generated_requests_get_documented_answers_and_never_a_server_error(
    sqlite_ledger: Ledger, tmp_path: Path
) -> None:
    token = sqlite_ledger.token("fuzzer", "system", "admin")
    server = sqlite_ledger.serve()  # reads wait for the views as they do by default
    seed(server, token)
    events = tmp_path / "schemathesis.ndjson"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
        "--checks", CHECKS, "--max-examples", "12", "--seed", "20240507",
        "--header", f"Authorization: Bearer {token}", "--exclude-path", "/v1/feed",
        "--workers", "4", "--request-timeout", "10", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(events),
    ]  # fmt: skip
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_LIMIT_SECONDS
    )
    print(run.stdout[-20000:], run.stderr[-5000:])
    assert events.exists(), f"schemathesis {schemathesis.__version__} did not run:\n{run.stderr}"

    unexpected = [
        f
        for f in failures(events)
        if not is_batch_item_refused(f) and not is_refused_as_too_large(f)
    ]

    shown = (json.dumps(f | {"answer": f["answer"][:400]}) for f in unexpected)
    assert unexpected == [], "\n".join(shown)
    assert "Traceback" not in run.stderr, run.stderr
