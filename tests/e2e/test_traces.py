"""Traces across the ledger, as an operator runs it: a deploy sent in a pipeline's trace keeps
that trace (GET /v1/events shows it, `ledger verify` still finds every chain intact); with
OTEL_EXPORTER_OTLP_ENDPOINT set, `ledger serve` exports its own spans over OTLP/HTTP to a real
receiver, continuing the incoming trace; without it, nothing of OpenTelemetry is even loaded."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from .conftest import ROOT, Cli, LedgerServer, base_environ, free_port, server_environ

pytestmark = pytest.mark.e2e

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
READ_TRACE_ID = "5bf92f3577b34da6a3ce929d0e0e4736"
READ_TRACEPARENT = f"00-{READ_TRACE_ID}-{PARENT_ID}-01"
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
BUILD = {
    "build_id": "b1",
    "commit": "abc1234",
    "artifact": {"digest": "sha256:" + "1" * 64},
    "status": "succeeded",
}


class OtlpReceiver:
    """An OTLP/HTTP endpoint (POST /v1/traces, protobuf) that keeps every span it receives."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, str], Span]] = []
        self.server: TestServer | None = None

    async def traces(self, request: web.Request) -> web.Response:
        assert request.content_type == "application/x-protobuf"
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in export.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.spans += [(resource, span) for span in scope_spans.spans]
        answer = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=answer, content_type="application/x-protobuf")

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")


@pytest.fixture
async def otlp() -> AsyncIterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    app = web.Application()
    app.router.add_post("/v1/traces", receiver.traces)
    receiver.server = TestServer(app)
    await receiver.server.start_server()
    yield receiver
    await receiver.server.close()


def _traced_story(server: LedgerServer) -> dict[str, Any]:
    """A deploy sent in the pipeline's trace; the CloudEvent GET /v1/events serves of it."""
    api = server.api()
    api.write("POST", "/v1/apps", {"name": "shop"}, headers=CI)
    api.write("POST", "/v1/apps/shop/builds", BUILD, headers=CI)
    traced = CI | {"traceparent": TRACEPARENT, "tracestate": "congo=t61rcWkgMzE"}
    read_traced = {"traceparent": READ_TRACEPARENT}
    deploy = api.write(
        "POST", "/v1/apps/shop/envs/prod/deploys", {"build_id": "b1"}, headers=traced
    )
    answer = api.get("/v1/events", after=0, limit=100)
    assert answer.status == 200, answer
    events = {e["ledgerposition"]: e for e in answer.json}
    query = {"min_position": deploy["position"]}
    state = api.request("GET", "/v1/apps/shop/envs/prod", query=query, headers=read_traced)
    assert state.status == 200, state
    return {"deploy": events.pop(deploy["position"]), "others": list(events.values())}


async def test_a_traced_deploy_is_exported_kept_and_still_verifies(
    otlp: OtlpReceiver, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = server_environ(tmp_path / "data") | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds: send spans soon, not every 5 s
        "OTEL_SERVICE_NAME": "ledger-under-test",
    }
    if backend == "postgres":
        env["LEDGER_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    server = LedgerServer(env, tmp_path)
    await asyncio.to_thread(server.start)
    try:
        story = await asyncio.to_thread(_traced_story, server)
    finally:
        code = await asyncio.to_thread(server.stop)  # the spans still waiting are sent
    assert code == 0, server.tail()

    deploy = story["deploy"]
    assert (deploy["traceparent"], deploy["tracestate"]) == (TRACEPARENT, "congo=t61rcWkgMzE")
    assert all("traceparent" not in e for e in story["others"]), story["others"]
    ours = [s for r, s in otlp.spans if s.trace_id.hex() == TRACE_ID]
    assert [s.kind for s in ours] == [Span.SPAN_KIND_SERVER], otlp.spans
    assert ours[0].parent_span_id.hex() == PARENT_ID  # the pipeline's span is its parent
    assert "deploys" in ours[0].name
    assert {r["service.name"] for r, _ in otlp.spans} == {"ledger-under-test"}
    assert not [s for _, s in otlp.spans if s.name.endswith(("/healthz", "healthz"))]

    if backend == "postgres":  # the read's queries are spans of its request's span
        read = [s for _, s in otlp.spans if s.trace_id.hex() == READ_TRACE_ID]
        [served] = [s for s in read if s.kind == Span.SPAN_KIND_SERVER]
        queries = [s for _, s in otlp.spans if s.parent_span_id == served.span_id]
        assert queries and {s.kind for s in queries} == {Span.SPAN_KIND_CLIENT}

    store = {k: v for k, v in env.items() if k in ("LEDGER_DATA_DIR", "LEDGER_DATABASE_URL")}
    verified = await asyncio.to_thread(Cli(base_environ()), "verify", **store)
    assert verified.returncode == 0, verified.stdout + verified.stderr


SERVE_AND_LOOK = """
import json, os, signal, sys, threading, time, urllib.request
from ledger.cli.main import main

def look(port):
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    traced = {"Content-Type": "application/json", "traceparent": sys.argv[2]}
    request = urllib.request.Request(url + "/v1/apps", b'{"name": "shop"}', traced)
    urllib.request.urlopen(request, timeout=10).close()
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")
    print(json.dumps(loaded), flush=True)
    os.kill(os.getpid(), signal.SIGINT)

threading.Thread(target=look, args=(sys.argv[1],), daemon=True).start()
sys.argv = ["ledger", "serve", "--port", sys.argv[1]]
main()
"""


def _loaded_while_serving(env: dict[str, str]) -> list[str]:
    """The opentelemetry modules a `ledger serve` process has loaded once it answered a
    traced write."""
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_LOOK, str(free_port()), TRACEPARENT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_without_an_endpoint_nothing_of_opentelemetry_is_loaded(tmp_path: Path) -> None:
    env = server_environ(tmp_path / "data")
    for name in [n for n in env if n.startswith("OTEL_")]:
        del env[name]
    assert _loaded_while_serving(env) == []


async def test_with_an_endpoint_the_sdk_is_loaded(otlp: OtlpReceiver, tmp_path: Path) -> None:
    """The counterpart that shows the check above can fail."""
    env = server_environ(tmp_path / "data") | {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url}
    loaded = await asyncio.to_thread(_loaded_while_serving, env)
    assert "opentelemetry.sdk.trace" in loaded
