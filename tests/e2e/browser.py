"""A real browser for the dashboard's tests: Debian's chromium, headless, driven over the
Chrome DevTools Protocol (a websocket, through aiohttp)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

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
START_SECONDS = 30.0
WAIT_SECONDS = 15.0


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


@asynccontextmanager
async def browser_tab(tmp_path: Path) -> AsyncIterator[Page]:
    """A headless chromium of its own (own profile directory in ``tmp_path``), and a tab."""
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


def js(value: object) -> str:
    return json.dumps(value)


async def choose(page: Page, select: str, value: str) -> None:
    await page.evaluate(
        f"(() => {{ const s = document.querySelector({js(select)}); s.value = {js(value)};"
        " s.dispatchEvent(new Event('change')); })()"
    )
