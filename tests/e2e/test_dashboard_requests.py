"""The dashboard and the gates in a real browser (``browser.py``), against a real `ledger
serve` on SQLite: a change request opened at its own address (the link chat messages carry)
is approved from the page and its release appears; the changes waiting for approval are the
ledger's list; frozen environments are marked; only a principal with the approve scope is
offered Approve and Reject, and a rejection asks for its reason."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from .browser import Page, browser_tab, js
from .conftest import Cli

pytestmark = pytest.mark.e2e

SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard-request.png"
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
ALICE = {"X-Ledger-Actor": "alice"}
SHOP = "/v1/apps/shop"
PANEL = "document.querySelector('#detail')"
STATUS = "document.querySelector('#request-status')?.innerText"
SHOWN_REQUESTS = (
    "[...document.querySelectorAll('#needs-list li[data-request]')].map(li => li.dataset.request)"
)


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: the page does not depend on the backend."""
    return "sqlite"


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    async with browser_tab(tmp_path) as tab:
        yield tab


async def call(api: Any, method: str, path: str, body: object = None, **headers: str) -> Any:
    """Any request over HTTP (off the event loop: the client is synchronous)."""
    return await asyncio.to_thread(api.request, method, path, body, headers=headers or CI)


async def post(api: Any, method: str, path: str, body: object, **headers: str) -> Any:
    return await asyncio.to_thread(api.write, method, path, body, headers=headers or CI)


async def request_change(api: Any, env: str, build_id: str, **headers: str) -> str:
    """A deploy that waits for approval: the id of its change request."""
    path = f"{SHOP}/envs/{env}/deploys"
    answer = await call(api, "POST", path, {"build_id": build_id}, **headers)
    assert answer.status == 202, answer
    request_id: str = answer.json["request"]["id"]
    return request_id


def build(build_id: str) -> dict[str, Any]:
    commit = (build_id.encode().hex() + "c0ffee" * 7)[:40]
    return {
        "build_id": build_id,
        "commit": commit,
        "artifact": {"digest": f"sha256:{commit:0<64}"},
        "status": "succeeded",
        "pipeline": {"name": "main", "run_id": f"run-{build_id}"},
    }


def row(key: str) -> str:
    return f"document.querySelector('#envs .env[data-key={js(key)}]')"


async def panel_of(page: Page, request_id: str, status: str) -> str:
    """The request's page once it shows the request with ``status``; its text."""
    text: str = await page.until(
        f"{PANEL}?.hidden === false"
        f" && {PANEL}.innerText.includes({js('Change request ' + request_id[:8])})"
        f" && {STATUS} === {js(status)} && {PANEL}.innerText",
        f"request {request_id[:8]} {status}",
    )
    return text


async def listed_as_pending(api: Any) -> list[str]:
    answer = await asyncio.to_thread(api.read, "/v1/requests", status="pending")
    return [r["id"] for r in answer["items"]]


async def test_a_change_request_is_approved_from_its_page_and_its_release_appears(
    server: Any, page: Page
) -> None:
    api = server.api()
    await post(api, "POST", "/v1/apps", {"name": "shop"})
    await post(api, "POST", f"{SHOP}/builds", build("b1"))
    four_eyes = {"reason": "four eyes", "policy": {"approvals": {"required": 1}}}
    await post(api, "PUT", f"{SHOP}/envs/prod/policy", four_eyes, **ALICE)
    request_id = await request_change(api, "prod", "b1")

    await page.open(f"{server.url}/#/requests/{request_id}")
    text = await panel_of(page, request_id, "pending")
    assert "deploy b1" in text and "ci-bot" in text and "1 approval" in text
    # what waits is what the ledger lists as pending (nothing where it lists none)
    listed = await listed_as_pending(api)
    await page.until(f"JSON.stringify({SHOWN_REQUESTS}) === {js(js(listed))}", "the pending list")

    await page.evaluate(f"{PANEL}.querySelector('button.act.approve').click()")
    text = await panel_of(page, request_id, "released")
    assert "Approved and released as v1." in text and "anonymous" in text
    await page.until(f"{row('shop/prod')}?.innerText.includes('v1')", "the release in prod")
    await page.until(f"!{SHOWN_REQUESTS}.includes({js(request_id)})", "the request no longer waits")
    assert await page.evaluate(f"!{PANEL}.querySelector('button.act')")

    # A freeze in force marks its environment, once its policy changes, without a reload.
    await post(api, "POST", f"{SHOP}/envs/staging/deploys", {"build_id": "b1"})
    await page.until(f"{row('shop/staging')}?.innerText.includes('v1')", "staging")
    now = datetime.now(UTC)
    launch = {"name": "launch", "start": (now - timedelta(hours=1)).isoformat(),
              "end": (now + timedelta(hours=1)).isoformat()}  # fmt: skip
    frozen = {"reason": "launch day", "policy": {"freeze": [launch]}}
    await post(api, "PUT", f"{SHOP}/envs/staging/policy", frozen, **ALICE)
    await page.until(f"{row('shop/staging')}.innerText.includes('frozen: launch')", "the freeze")
    assert "frozen" not in await page.evaluate(f"{row('shop/prod')}.innerText")
    await page.screenshot(SCREENSHOT)

    # Closing the request's page leaves its address; the link opens it again.
    await page.evaluate(f"{PANEL}.querySelector('.close').click()")
    assert await page.evaluate("location.hash") == ""
    await page.evaluate(f"location.hash = {js('#/requests/' + request_id)}")
    await panel_of(page, request_id, "released")


async def token(cli: Cli, server: Any, name: str, kind: str, scopes: str) -> str:
    done = await asyncio.to_thread(
        cli, "token", "create", "--name", name, "--kind", kind, "--scopes", scopes, **server.env
    )
    assert done.returncode == 0, done.stderr
    created: str = done.stdout.strip().splitlines()[-1]
    return created


async def use_token(page: Page, server: Any, name: str, value: str, request_id: str) -> None:
    """Load the request's page anew with a token, as the Token button keeps it for the tab."""
    await page.evaluate(f"sessionStorage.setItem('ledger-token', {js(value)})")
    await page.send("Page.navigate", url=f"{server.url}/?as={name}#/requests/{request_id}")


async def test_only_approvers_may_approve_and_a_rejection_needs_its_reason(
    server: Any, page: Page, cli: Cli
) -> None:
    api = server.api()
    await post(api, "POST", "/v1/apps", {"name": "shop"})
    await post(api, "POST", f"{SHOP}/builds", build("b1"))
    four_eyes = {"reason": "four eyes", "policy": {"approvals": {"required": 1}}}
    await post(api, "PUT", f"{SHOP}/envs/qa/policy", four_eyes, **ALICE)
    ci = await token(cli, server, "ci-bot", "ci", "read,deploy")
    viewer = await token(cli, server, "viewer", "human", "read")
    approver = await token(cli, server, "bob", "human", "read,approve")
    while (await call(api, "GET", "/v1/apps")).status != 401:  # the ledger left open mode
        await asyncio.sleep(0.1)
    as_ci = {"Authorization": f"Bearer {ci}"}
    first = await request_change(api, "qa", "b1", **as_ci)

    await page.open(server.url + "/")
    await use_token(page, server, "viewer", viewer, first)
    await panel_of(page, first, "pending")
    await page.until("document.querySelector('#status')?.className === 'live'", "the feed")
    assert await page.evaluate("!document.querySelector('button.act')"), "a reader approves"
    # The server decides, not the buttons: the reader's token sent by hand is refused.
    forced = await page.evaluate(
        f"fetch('/v1/requests/{first}/approve', {{method: 'POST', body: '{{}}', headers: "
        f"{{'Content-Type': 'application/json', Authorization: 'Bearer ' + {js(viewer)}}}}})"
        ".then(r => r.status)"
    )
    assert forced == 403
    # The token travels in a header only: no address the page fetched holds it, nor the log.
    fetched = await page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name).concat(location.href)"
    )
    assert fetched and not [url for url in fetched if viewer in url or "token" in url]
    assert viewer not in server.log()

    await use_token(page, server, "bob", approver, first)
    await panel_of(page, first, "pending")
    await page.until(f"!!{PANEL}?.querySelector('button.act.reject')", "the approver's buttons")
    await page.evaluate(f"{PANEL}.querySelector('button.act.reject').click()")
    assert await page.evaluate("document.querySelector('#step-reason').validationMessage")
    assert (await call(api, "GET", f"/v1/requests/{first}", **as_ci)).json["status"] == "pending"
    await page.evaluate("document.querySelector('#step-reason').value = 'not before the demo'")
    await page.evaluate(f"{PANEL}.querySelector('button.act.reject').click()")
    text = await panel_of(page, first, "rejected")
    assert "Rejected." in text and "not before the demo" in text and "bob" in text

    second = await request_change(api, "qa", "b1", **as_ci)
    await page.evaluate(f"location.hash = {js('#/requests/' + second)}")
    await panel_of(page, second, "pending")
    await page.evaluate(f"{PANEL}.querySelector('button.act.approve').click()")
    assert "Approved and released as v1." in await panel_of(page, second, "released")
    await page.until(f"{row('shop/qa')}?.innerText.includes('v1')", "the release in qa")
