"""The dashboard in a real browser (``browser.py``: Debian's chromium, headless, over the
Chrome DevTools Protocol), against a real `ledger serve` on SQLite.

A person opens GET /, sees every app and environment and the recent changes, watches new
changes arrive without reloading, filters, and opens a release with its diff. One
screenshot is saved to tests/artifacts/dashboard.png.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .browser import Page, browser_tab, choose, js

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "tests" / "artifacts" / "dashboard.png"
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
BOB = {"X-Ledger-Actor": "bob"}
ALICE = {"X-Ledger-Actor": "alice"}


@pytest.fixture(scope="module")
def backend() -> str:
    """The dashboard test runs on SQLite only (the page does not depend on the backend)."""
    return "sqlite"


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    async with browser_tab(tmp_path) as tab:
        yield tab


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


def row(key: str) -> str:
    return f"document.querySelector('#envs .env[data-key={js(key)}]')"


def feed_has(text: str) -> str:
    return (
        "[...document.querySelectorAll('#feed li[data-position]')]"
        f".some(li => li.innerText.includes({js(text)}))"
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
    await page.until(f"{row('shop/prod')}?.textContent.includes('new-checkout 25%')", "the flag")
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
    await page.evaluate(f"{row('shop/prod')}.querySelector('a.plain').click()")
    await page.until(
        "!document.querySelector('#detail').hidden && "
        "document.querySelector('#detail').innerText.includes('shop prod v1')",
        "the prod release",
    )
    await page.evaluate(f"{row('shop/staging')}.querySelector('a.plain').click()")
    detail = await page.until(
        "document.querySelector('#detail h3')?.innerText === 'shop staging v4' && "
        "!document.querySelector('#detail').innerText.includes('Loading') && "
        "document.querySelector('#detail').textContent",
        "the staging release",
    )
    assert "Changes from v3 to v4" in detail and "Reasonpayment errors" in detail
    assert "Rollback ofv2" in detail and "Byalice" in detail
    assert "-FEATURE_X" in detail or "No diff available" in detail  # the diff, where served
    await page.evaluate("document.querySelector('#detail .close').click()")
    await page.until("document.querySelector('#detail').hidden", "the panel closed")
    await page.screenshot(SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000
