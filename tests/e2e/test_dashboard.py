"""The dashboard in a real browser: Debian's chromium, headless, driven over the Chrome
DevTools Protocol (a websocket, through aiohttp), against a real `ledger serve` on SQLite.

A person opens GET /, sees every app and environment and the recent changes, watches new
changes arrive without reloading, filters, and opens a release with its diff. One
screenshot is saved to tests/artifacts/dashboard.png.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "tests" / "artifacts" / "dashboard.png"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1440,900",
)
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
BOB = {"X-Ledger-Actor": "bob"}
ALICE = {"X-Ledger-Actor": "alice"}
START_SECONDS = 30.0
WAIT_SECONDS = 15.0


@pytest.fixture(scope="module")
def backend() -> str:
    """The dashboard test runs on SQLite only (the page does not depend on the backend)."""
    return "sqlite"


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed (scripts/test installs Debian's package as root)")


class Page:
    """One browser tab, driven with CDP commands over the browser's websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.session_id = ""
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        command_id = next(self._ids)
        command: dict[str, Any] = {"id": command_id, "method": method, "params": params}
        if self.session_id and not method.startswith("Target."):
            command["sessionId"] = self.session_id
        future = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        await self.ws.send_str(json.dumps(command))
        answer = await asyncio.wait_for(future, WAIT_SECONDS)
        assert "error" not in answer, f"{method}: {answer['error']}"
        result: dict[str, Any] = answer["result"]
        return result

    async def open(self, url: str) -> None:
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        self.session_id = attached["sessionId"]
        await self.send("Page.enable")
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=1440,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        await self.send("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    async def until(self, expression: str, what: str) -> Any:
        """Poll a JavaScript expression until it is truthy; fail saying ``what`` was awaited."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        while not (value := await self.evaluate(expression)):
            if loop.time() > deadline:
                text = await self.evaluate("document.body.innerText")
                pytest.fail(f"the page never showed {what}; it shows:\n{text[:3000]}")
            await asyncio.sleep(0.1)
        return value

    async def screenshot(self, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.ws.close()


async def _devtools_address(profile: Path, process: subprocess.Popen[bytes]) -> str:
    active = profile / "DevToolsActivePort"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    while not (active.exists() and len(active.read_text().split()) == 2):
        if process.poll() is not None or loop.time() > deadline:
            pytest.fail(f"chromium did not start (exit code {process.poll()})")
        await asyncio.sleep(0.1)
    port, path = active.read_text().split()
    return f"ws://127.0.0.1:{port}{path}"


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    """A headless chromium of its own (own profile directory), and one tab in it."""
    profile = tmp_path / "chromium"
    command = [chromium_binary(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"]
    log = (tmp_path / "chromium.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    session = aiohttp.ClientSession()
    try:
        address = await _devtools_address(profile, process)
        ws = await session.ws_connect(address, max_msg_size=0)
        browser = Page(ws)
        yield browser
        await browser.close()
    finally:
        await session.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def post(api: Any, method: str, path: str, body: object, **headers: str) -> Any:
    """A write over HTTP (off the event loop: the client is synchronous)."""
    return await asyncio.to_thread(api.write, method, path, body, headers=CI | headers)


def build(build_id: str, commit: str) -> dict[str, Any]:
    return {
        "build_id": build_id,
        "commit": commit,
        "artifact": {"digest": f"sha256:{commit:0<64}"},
        "status": "succeeded",
        "pipeline": {"name": "main", "run_id": f"run-{build_id}"},
    }


def js(value: object) -> str:
    return json.dumps(value)


def row(key: str) -> str:
    return f"document.querySelector('#envs tr[data-key={js(key)}]')"


def feed_has(text: str) -> str:
    return (
        "[...document.querySelectorAll('#feed li[data-position]')]"
        f".some(li => li.innerText.includes({js(text)}))"
    )


async def choose(page: Page, select: str, value: str) -> None:
    await page.evaluate(
        f"(() => {{ const s = document.querySelector({js(select)}); s.value = {js(value)};"
        " s.dispatchEvent(new Event('change')); })()"
    )


async def test_the_dashboard_shows_changes_live_filters_and_opens_releases(
    server: Any, page: Page
) -> None:
    api = server.api()
    shop = "/v1/apps/shop"
    await post(api, "POST", "/v1/apps", {"name": "shop"})
    await post(api, "POST", f"{shop}/builds", build("b41", "a1b2c3d4e5f60718"))
    await post(api, "POST", f"{shop}/envs/staging/deploys", {"build_id": "b41"})

    await page.open(server.url + "/")
    await page.until("document.querySelector('#status')?.className === 'live'", "a live feed")
    await page.until(f"{row('shop/staging')}?.innerText.includes('v1')", "shop staging v1")
    assert await page.evaluate(feed_has("deployed shop v1 (a1b2c3d) to staging"))

    # Changes made now appear without a reload: in the feed and in the environments table.
    await post(api, "POST", f"{shop}/builds", build("b42", "b2c3d4e5f6071829"))
    await post(api, "POST", f"{shop}/envs/staging/deploys", {"build_id": "b42"})
    deploy = {"build_id": "b42", "description": "fix checkout total", "strategy": "canary"}
    await post(api, "POST", f"{shop}/envs/prod/deploys", deploy | {"steps": [10, 50, 100]})
    flag = {"enabled": True, "rollout_percent": 25}
    await post(api, "PUT", f"{shop}/envs/prod/flags/new-checkout", flag, **BOB)
    config = {"set": {"FEATURE_X": "on", "TIMEOUT": "10"}, "unset": []}
    await post(api, "POST", f"{shop}/envs/staging/config", config, **ALICE)
    await page.until(feed_has('"fix checkout total") to prod — canary 10%'), "the prod deploy")
    await page.until(f"{row('shop/prod')}?.innerText.includes('10%')", "prod at 10%")
    await page.until(f"{row('shop/prod')}?.innerText.includes('new-checkout 25%')", "the flag")
    await page.until(f"{row('shop/staging')}?.innerText.includes('v3')", "staging v3")
    rollback = {"reason": "payment errors"}
    await post(api, "POST", f"{shop}/envs/staging/rollback", rollback, **ALICE)
    await page.until(feed_has("alice rolled back shop staging to v2"), "the rollback")
    assert await page.evaluate(
        "document.querySelector('#feed li[data-kind=rollback]').classList.contains('failure')"
    )

    # What runs: a reporter sees an artifact no build produced; the row marks the drift.
    pod = {"id": "shop-7d9c-abc", "artifact_digest": "sha256:" + "e" * 64}
    report = {"reporter": "k8s:staging", "instances": [pod]}
    await post(api, "POST", f"{shop}/envs/staging/runtime", report)
    await page.until(feed_has("drift detected: shop in staging"), "the drift")
    await page.until(f"{row('shop/staging')}?.innerText.includes('drifted')", "staging drifted")
    assert "unrecorded sha256:eeeeeeeeeeee" in await page.evaluate(
        f"{row('shop/staging')}.innerText"
    )

    # Filters: only staging rows and staging changes remain.
    await choose(page, "#f-env", "staging")
    await page.until(f"!{row('shop/prod')} && !!{row('shop/staging')}", "only staging rows")
    await page.until(
        "[...document.querySelectorAll('#feed li[data-position]')]"
        ".every(li => li.innerText.includes('staging'))",
        "only staging changes",
    )
    await choose(page, "#f-env", "")
    await choose(page, "#f-kind", "deploy")
    await page.until(
        "[...document.querySelectorAll('#feed li[data-position]')]"
        ".every(li => li.dataset.kind === 'deploy')",
        "only deploys",
    )
    await choose(page, "#f-kind", "")
    await page.until(feed_has("rolled back"), "every kind again")

    # A release opens with its detail and its diff to the previous release (or alone).
    await page.evaluate(f"{row('shop/prod')}.querySelector('button.release').click()")
    await page.until(
        "!document.querySelector('#detail').hidden && "
        "document.querySelector('#detail').innerText.includes('shop prod v1')",
        "the prod release",
    )
    await page.evaluate(f"{row('shop/staging')}.querySelector('button.release').click()")
    detail = await page.until(
        "document.querySelector('#detail h3')?.innerText === 'shop staging v4' && "
        "!document.querySelector('#detail').innerText.includes('Loading') && "
        "document.querySelector('#detail').textContent",
        "the staging release",
    )
    assert "Diff v3 → v4" in detail and "payment errors" not in detail
    assert "Rollback ofv2" in detail and "Byalice" in detail
    assert "-FEATURE_X" in detail or "No diff available" in detail  # the diff, where served
    await page.evaluate("document.querySelector('#detail .close').click()")
    await page.until("document.querySelector('#detail').hidden", "the panel closed")
    await page.screenshot(SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000
