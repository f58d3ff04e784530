"""Reporters with tokens: a report needs the runtime:write scope (a reporter's token needs
nothing else), a refused report is recorded as denied, and a reporter that goes silent makes
the runtime unknown, while one that reports unchanged keeps it known."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

Ledger = Any  # the fixtures of conftest.py
DIGEST = "sha256:" + "a" * 64
STALE = 2.0


def report(app: str = "shop") -> dict[str, Any]:
    instances = [{"id": "shop-7d9c-abc", "artifact_digest": DIGEST}]
    return {
        "reporter": "k8s:prod-eu",
        "env": "prod",
        "workloads": [{"app": app, "instances": instances}],
    }


def shop(ledger: Ledger, server: Any) -> str:
    """The app shop, v1 of build b1 deployed to prod by CI; returns a read token."""
    admin = ledger.token("admin", "human", "admin")
    ci = ledger.token("ci-bot", "ci", "build:write,deploy,read")
    server.write("POST", "/v1/apps", {"name": "shop"}, token=admin)
    build = {
        "build_id": "b1",
        "commit": "ab12cd34",
        "artifact": {"digest": DIGEST},
        "status": "succeeded",
        "pipeline": {"name": "main", "run_id": "1"},
    }
    server.write("POST", "/v1/apps/shop/builds", build, token=ci)
    server.write("POST", "/v1/apps/shop/envs/prod/deploys", {"build_id": "b1"}, token=ci)
    return ci


def test_a_report_needs_the_runtime_write_scope(any_ledger: Ledger) -> None:
    server = any_ledger.serve()
    read = shop(any_ledger, server)
    reporter = any_ledger.token("k8s-prod-eu", "system", "runtime:write")
    refused = server.request("POST", "/v1/runtime/reports", report(), token=read)
    assert refused.status == 403, refused
    denied = server.request("GET", "/v1/history?kind=denied", token=read).json["items"]
    assert "lacks the 'runtime:write' scope" in denied[0]["summary"]
    unknown_only = server.request("POST", "/v1/runtime/reports", report("nope"), token=read)
    assert unknown_only.status == 403, unknown_only
    accepted = server.request("POST", "/v1/runtime/reports", report(), token=reporter)
    assert accepted.status == 201, accepted
    assert server.request("GET", "/v1/apps", token=reporter).status == 403  # reports only


def test_a_silent_reporter_makes_the_runtime_unknown(any_ledger: Ledger) -> None:
    server = any_ledger.serve(LEDGER_RUNTIME_STALE_SECONDS=str(STALE))
    read = shop(any_ledger, server)
    reporter = any_ledger.token("k8s-prod-eu", "system", "runtime:write")

    def status() -> str:
        state = server.request("GET", "/v1/apps/shop/envs/prod", token=read).json
        return str(state["runtime"]["status"])

    server.write("POST", "/v1/runtime/reports", report(), token=reporter)
    assert status() == "in_sync"
    for _ in range(3):  # unchanged reports: no event, yet the reporter is alive
        time.sleep(STALE / 2)
        unchanged = server.request("POST", "/v1/runtime/reports", report(), token=reporter)
        assert (unchanged.status, unchanged.json["appended"]) == (200, 0)
        assert status() == "in_sync"
    time.sleep(STALE + 0.5)
    assert status() == "unknown"


def test_an_unrecorded_artifact_in_prod_can_be_a_denied_change(any_ledger: Ledger) -> None:
    server = any_ledger.serve(LEDGER_UNRECORDED_IS_DENIED="true")
    read = shop(any_ledger, server)
    reporter = any_ledger.token("k8s-prod-eu", "system", "runtime:write")
    unrecorded = "sha256:" + "e" * 64
    body = report() | {
        "workloads": [{"app": "shop", "instances": [{"id": "p-1", "artifact_digest": unrecorded}]}]
    }
    written = server.write("POST", "/v1/runtime/reports", body, token=reporter)
    history = f"/v1/history?app=shop&min_position={written['position']}"
    items = server.request("GET", history, token=read).json["items"]
    assert [i["kind"] for i in items[:3]] == ["denied", "runtime", "runtime"]
    assert items[0]["summary"] == (
        f"unknown was denied deploy in shop prod: {unrecorded} runs there with no recorded "
        "build; prod takes deploys only via CI"
    )
