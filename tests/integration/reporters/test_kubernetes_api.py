"""The reporter reads pods through the real Kubernetes client (kubernetes_asyncio) over real
HTTP: a local server answers the documented path, `GET /api/v1/namespaces/{namespace}/pods`
with `labelSelector`, with a fixture's pods, reached through a kubeconfig file. There is no
cluster in CI; this is how the API path is tested."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from ledger.reporters.kubernetes import read_pods
from ledger.reporters.kubernetes_api import list_pods

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kubernetes"
TOKEN = "reporter-sa-token-Xq7"


@dataclass
class ApiServer:
    """A stand-in for the API server: answers pod lists, remembers what it was asked."""

    pods: list[dict[str, Any]]
    asked: list[tuple[str, dict[str, str], str]] = field(default_factory=list)

    async def list_pods(self, request: web.Request) -> web.Response:
        self.asked.append(
            (request.path, dict(request.query), request.headers.get("Authorization", ""))
        )
        items = [{k: v for k, v in p.items() if k not in ("apiVersion", "kind")} for p in self.pods]
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
        return web.json_response(body)


@pytest.fixture
async def api_server(unused_tcp_port: int) -> AsyncIterator[tuple[ApiServer, str]]:
    pods = json.loads((FIXTURES / "rollout.json").read_text())["items"]
    server = ApiServer(pods)
    app = web.Application()
    app.router.add_get("/api/v1/namespaces/{namespace}/pods", server.list_pods)
    app.router.add_get("/api/v1/pods", server.list_pods)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        yield server, f"http://127.0.0.1:{unused_tcp_port}"
    finally:
        await runner.cleanup()


def kubeconfig(path: Path, url: str) -> str:
    """A kubeconfig naming the server and a bearer token, as `kubectl config` writes one."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": url}}],
        "users": [{"name": "reporter", "user": {"token": TOKEN}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "reporter"}}],
        "current-context": "local",
    }
    path.write_text(json.dumps(document))
    return str(path)


async def test_pods_of_a_namespace_are_read_with_the_selector_and_the_token(
    api_server: tuple[ApiServer, str], tmp_path: Path
) -> None:
    server, url = api_server
    config = kubeconfig(tmp_path / "config", url)
    pods = await list_pods("shop", "tier=web", config)
    assert server.asked == [
        ("/api/v1/namespaces/shop/pods", {"labelSelector": "tier=web"}, f"Bearer {TOKEN}")
    ]
    report = read_pods(pods, env="prod", reporter="k8s:prod").report
    assert {w.app: len(w.instances) for w in report.workloads} == {"cart": 1, "shop": 3}


async def test_without_a_namespace_every_namespaces_pods_are_read(
    api_server: tuple[ApiServer, str], tmp_path: Path
) -> None:
    server, url = api_server
    pods = await list_pods(None, None, kubeconfig(tmp_path / "config", url))
    assert [(path, query) for path, query, _ in server.asked] == [("/api/v1/pods", {})]
    assert len(pods) == 4


async def test_the_command_reads_the_api_through_its_kubeconfig(
    api_server: tuple[ApiServer, str], tmp_path: Path
) -> None:
    server, url = api_server
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "KUBE"))}
    environ["KUBECONFIG"] = kubeconfig(tmp_path / "config", url)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger.cli.main", "report", "kubernetes", "--env", "prod",
        "--namespace", "shop", "--selector", "app.kubernetes.io/name", "--dry-run",
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    body = json.loads(out)
    assert [(w["app"], len(w["instances"])) for w in body["workloads"]] == [
        ("cart", 1),
        ("shop", 3),
    ]
    assert server.asked[0][:2] == (
        "/api/v1/namespaces/shop/pods",
        {"labelSelector": "app.kubernetes.io/name"},
    )
