"""The dashboard people keep open, in a real browser (``browser.py``: headless chromium over the
DevTools Protocol), against `ledger serve` on a realistic history (``fleet.py``: three apps in
dev/staging/prod over eight weeks, canaries, failures and rollbacks, drift, a freeze in force,
requests waiting). It asserts what is drawn against what the API says, and saves screenshots
at 1280 and 1920 px to tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from .browser import Page, browser_tab, choose, js
from .conftest import Api, LedgerServer, running, server_environ
from .fleet import write_fleet

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LANES = ["api/prod", "api/staging", "billing/prod", "billing/staging", "shop/dev", "shop/prod",
         "shop/staging"]  # fmt: skip
CSP_WATCH = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerServer]:
    """A server on eight weeks of history; reporters count as fresh for a day."""
    workdir = tmp_path_factory.mktemp("fleet")
    write_fleet(workdir / "data")
    env = server_environ(workdir / "data") | {"LEDGER_RUNTIME_STALE_SECONDS": "86400"}
    with running(env, workdir) as server:
        yield server


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    async with browser_tab(tmp_path) as tab:
        await tab.open("about:blank")
        await tab.send("Page.addScriptToEvaluateOnNewDocument", source=CSP_WATCH)
        yield tab


async def show(page: Page, url: str, width: int = 1920, height: int = 1200) -> None:
    """Open ``url`` at ``width`` px and wait until the page has drawn what it loads."""
    await page.send(
        "Emulation.setDeviceMetricsOverride",
        width=width, height=height, deviceScaleFactor=1, mobile=width < 700,
    )  # fmt: skip
    await page.send("Page.navigate", url=url)
    await page.until("document.querySelector('#status')?.className === 'live'", "a live feed")
    await page.until("document.querySelectorAll('#timeline g.lane').length > 0", "the timeline")
    await page.until("!!document.querySelector('#needs-list li')", "the needs list")
    await page.until("document.querySelector('#dora figure')?.dataset.points", "the charts")


def read(api: Api, path: str, **query: object) -> Any:
    return api.read(path, **query)


async def drawn_bars(page: Page, lane: str) -> list[dict[str, str]]:
    bars: list[dict[str, str]] = await page.evaluate(
        f"[...document.querySelectorAll('g.lane[data-lane={js(lane)}] g.bar')]"
        ".map(b => ({version: b.dataset.version, status: b.dataset.status, cause: b.dataset.cause,"
        " canary: b.querySelectorAll('rect.canary').length, back: !!b.querySelector('.mark')}))"
    )
    return bars


async def test_the_timeline_draws_every_environment_as_the_history_says(
    fleet: LedgerServer, page: Page
) -> None:
    api = fleet.api()
    await show(page, f"{fleet.url}/?range=30d")
    lanes = await page.evaluate(
        "[...document.querySelectorAll('#timeline g.lane')].map(g => g.dataset.lane)"
    )
    assert sorted(lanes) == LANES
    since = datetime.now(UTC) - timedelta(days=30)
    for lane in LANES:
        app, env = lane.split("/")
        releases = read(api, f"/v1/apps/{app}/envs/{env}/releases")["releases"]
        bars = await drawn_bars(page, lane)
        made = [r for r in releases if datetime.fromisoformat(r["created_at"]) >= since]
        # every release of the window is a bar, and the one running when it began
        assert {str(r["version"]) for r in made} <= {b["version"] for b in bars}, lane
        assert len(bars) == len(made) + 1, lane
        by_version = {b["version"]: b for b in bars}
        for r in made:
            bar = by_version[str(r["version"])]
            if r["rollback_of"]:
                assert bar["back"] and bar["cause"] == "rollback", (lane, r)
                rolled = by_version.get(str(r["version"] - 1))
                if rolled:  # the release it replaced ended failed, aborted or rolled back
                    assert rolled["status"] in {"failed", "aborted", "rolled_back"}, (lane, r)
            if r["status"] in {"failed", "aborted"}:
                assert bar["status"] == r["status"], (lane, r)
        flips = [i for i in api.history(app=app, env=env, kind="flag", since=since.isoformat())]
        ticks = await page.evaluate(
            f"document.querySelectorAll('g.lane[data-lane={js(lane)}] line.tick.flag').length"
        )
        assert ticks == len(flips), lane

    # billing prod: yesterday's canary failed and was rolled back; today it drifted
    bars = await drawn_bars(page, "billing/prod")
    assert [b["status"] for b in bars[-2:]] == ["failed", "succeeded"]
    assert bars[-1]["back"] and bars[-2]["canary"]
    drift = "g.lane[data-lane='billing/prod'] rect.drift-span[data-status=drifted]"
    assert await page.evaluate(f"!!document.querySelector({js(drift)})")
    # shop prod: a canary under way at 50%, drawn inside its bar
    shop = await drawn_bars(page, "shop/prod")
    assert shop[-1]["status"] == "rolling_out" and shop[-1]["canary"] >= 2
    assert await page.evaluate("window.__violations.length") == 0, "the CSP blocked something"
    await page.screenshot(ARTIFACTS / "dashboard-1920.png")

    # hover shows the release; a click opens it with its diff to the one before
    rollback = f"g.lane[data-lane='billing/prod'] g.bar[data-version='{bars[-1]['version']}']"
    await page.evaluate(
        f"document.querySelector({js(rollback)}).dispatchEvent(new MouseEvent('mouseenter'))"
    )
    tip = await page.until(
        "!document.querySelector('#tip').hidden && document.querySelector('#tip').innerText",
        "the tip",
    )
    assert f"billing prod v{bars[-1]['version']}" in tip and "invoices stuck in pending" in tip
    await page.evaluate(
        f"document.querySelector({js(rollback)}).dispatchEvent(new MouseEvent('click'))"
    )
    detail = await page.until(
        "document.querySelector('#detail ul') && document.querySelector('#detail').innerText",
        "the rollback's detail",
    )
    assert "invoices stuck in pending" in detail and "none" not in detail
    assert await page.evaluate("location.hash") == f"#/releases/billing/prod/{bars[-1]['version']}"

    # a config-only release: its keys, and no build line
    config = "#timeline g.bar[data-cause=config]"
    await page.evaluate(
        f"document.querySelector({js(config)}).dispatchEvent(new MouseEvent('click'))"
    )
    diff = await page.until(
        "location.hash !== '#/releases/billing/prod/" + bars[-1]["version"] + "'"
        " && document.querySelector('#detail ul') && [...document.querySelectorAll('#detail li')]"
        ".map(li => li.dataset.diff)",
        "the config release's diff",
    )
    assert set(diff) == {"config"}, diff


async def test_the_charts_draw_what_dora_says_per_week(fleet: LedgerServer, page: Page) -> None:
    api = fleet.api()
    await show(page, f"{fleet.url}/", width=1280, height=900)
    await page.screenshot(ARTIFACTS / "dashboard-1280.png")
    for scope in ({}, {"app": "shop"}, {"app": "billing", "env": "prod"}):
        if scope:
            await page.send(
                "Page.navigate",
                url=f"{fleet.url}/?{'&'.join(f'{k}={v}' for k, v in scope.items())}",
            )
            await page.until(
                f"document.querySelector('#dora-scope')?.innerText.includes({js(scope['app'])})",
                "the scope",
            )
            await page.until("document.querySelector('#dora figure')?.dataset.points", "the charts")
        points = await page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('#dora figure')]"
            ".map(f => [f.dataset.chart, JSON.parse(f.dataset.points)]))"
        )
        assert len(points["frequency"][0]) == 12
        for i, end in enumerate(points["frequency"][0]):
            until = datetime.fromtimestamp(end, UTC).isoformat()
            week = read(api, "/v1/dora", days=7, until=until, **scope)["metrics"]
            assert points["frequency"][1][i] == pytest.approx(week["deployment_frequency"])
            lead = week["lead_time"]
            for series, key in ((1, "median_seconds"), (2, "p90_seconds")):
                expected = None if lead[key] is None else lead[key] / 3600
                assert points["lead"][series][i] == pytest.approx(expected), (scope, i)
            rate = week["change_failure_rate"]
            assert points["failure"][1][i] == pytest.approx(None if rate is None else rate * 100)
        drawn = await page.evaluate("document.querySelectorAll('#dora .plot canvas').length")
        assert drawn >= 1, "uPlot drew no chart"
    await page.evaluate("document.querySelector('#dora-help').click()")
    assert await page.evaluate("document.querySelector('#definitions').open")
    assert "Lead time" in await page.evaluate("document.querySelector('#definitions').innerText")


def lanes_drawn() -> str:
    return "[...document.querySelectorAll('#timeline g.lane')].map(g => g.dataset.lane).join()"


async def test_filters_and_the_open_release_live_in_the_url(
    fleet: LedgerServer, page: Page
) -> None:
    await show(page, f"{fleet.url}/?app=shop&env=prod&range=30d")
    assert (
        await page.evaluate(
            "[app, env, range] = ['#f-app', '#f-env', '#f-range']"
            ".map(s => document.querySelector(s).value); `${app} ${env} ${range}`"
        )
        == "shop prod 30d"
    )
    assert await page.evaluate(lanes_drawn()) == "shop/prod"
    await page.until(
        "[...document.querySelectorAll('#feed li[data-position]')]"
        ".every(li => li.innerText.includes('shop prod'))",
        "only shop prod changes",
    )
    await choose(page, "#f-app", "api")
    await page.until(f"{lanes_drawn()} === 'api/prod'", "api prod alone")
    assert "app=api" in await page.evaluate("location.search")
    await page.evaluate("history.back()")
    await page.until(f"{lanes_drawn()} === 'shop/prod'", "shop prod again after back")
    assert await page.evaluate("document.querySelector('#f-app').value") == "shop"

    # the keyboard: Tab to a release, arrows between releases, Enter opens, Escape closes
    await page.evaluate("document.querySelector('#timeline g.bar').focus()")
    first = await page.evaluate("document.activeElement.dataset.version")
    await page.send("Input.dispatchKeyEvent", type="keyDown", key="ArrowRight", code="ArrowRight",
                    windowsVirtualKeyCode=39)  # fmt: skip
    second = await page.evaluate("document.activeElement.dataset.version")
    assert int(second) == int(first) + 1
    await page.send("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
                    windowsVirtualKeyCode=13, text="\r")  # fmt: skip
    await page.until(f"location.hash === '#/releases/shop/prod/{second}'", "the release's address")
    await page.until(
        f"document.querySelector('#detail h3')?.innerText === 'shop prod v{second}'", "its panel"
    )
    await page.send("Input.dispatchKeyEvent", type="keyDown", key="Escape", code="Escape",
                    windowsVirtualKeyCode=27)  # fmt: skip
    await page.until(
        "document.querySelector('#detail').hidden && !location.hash", "the panel closed"
    )
    await page.evaluate("history.back()")  # back: the release is open again
    await page.until(
        f"!document.querySelector('#detail').hidden && location.hash.endsWith('/{second}')",
        "it reopened",
    )

    # a shared address opens the same view: a later window of shop prod, scrolled back
    await page.evaluate("document.querySelector('#t-earlier').click()")
    await page.until("location.search.includes('end=')", "an earlier window in the URL")
    shared = await page.evaluate("location.href")
    await page.send("Page.navigate", url=shared)
    await page.until(f"{lanes_drawn()} === 'shop/prod'", "the shared view")
    ends = await page.evaluate("document.querySelector('#timeline-range').innerText")
    assert "now" not in ends


async def test_the_layout_holds_from_a_phone_to_2560_px(fleet: LedgerServer, page: Page) -> None:
    for width, height in ((390, 844), (1280, 800), (2560, 1440)):
        await show(page, f"{fleet.url}/", width=width, height=height)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways at {width} px"
        wide = await page.evaluate(
            "[...document.querySelectorAll('section, .env, header')]"
            ".filter(e => e.getBoundingClientRect().right > innerWidth + 1).length"
        )
        assert wide == 0, f"something is cut off at {width} px"
        # flags collapse to counts, the list on demand; no emoji, icons are SVG
        assert await page.evaluate("document.querySelectorAll('details.flags[open]').length") == 0
        assert await page.evaluate(
            "!/\\p{Extended_Pictographic}/u.test(document.body.innerText)"
        ), "an emoji on the page"
        assert await page.evaluate("document.querySelectorAll('#feed svg.icon').length") > 10
    await page.screenshot(ARTIFACTS / "dashboard-2560.png")


async def test_what_needs_me_lists_drift_freezes_requests_and_failures(
    fleet: LedgerServer, page: Page
) -> None:
    api = fleet.api()
    hook = {"url": "http://127.0.0.1:9/hook", "format": "json"}  # nothing listens there
    await asyncio.to_thread(api.write, "POST", "/v1/webhooks", hook)
    flip = {"enabled": False, "reason": "for the webhook to fail"}
    await asyncio.to_thread(api.write, "PUT", "/v1/apps/shop/envs/dev/flags/dark-mode", flip)
    while not read(api, "/v1/attention")["webhooks"]:
        await asyncio.sleep(0.1)
    await show(page, f"{fleet.url}/")
    needs = (
        "[...document.querySelectorAll('#needs-list li.need')]"
        ".map(li => li.dataset.need + ' ' + li.innerText)"
    )
    await page.until(f"{needs}.some(t => t.startsWith('webhook'))", "the failing webhook")
    shown = "\n".join(await page.evaluate(needs))
    assert "billing prod has drifted" in shown
    assert "shop prod is frozen: black-friday" in shown and "thaws" in shown
    assert "127.0.0.1:9" not in shown, "a webhook's address shown to a reader"
    pending = [r["id"] for r in read(api, "/v1/requests", status="pending")["items"]]
    drawn = await page.evaluate(
        "[...document.querySelectorAll('#needs-list li[data-request]')]"
        ".map(li => li.dataset.request)"
    )
    assert sorted(drawn) == sorted(pending) and len(pending) == 2

    # approve the promotion from the list: it is released, in the list no more, drawn at once
    promotion = next(
        r for r in read(api, "/v1/requests", status="pending")["items"] if r["action"] == "promote"
    )
    before = read(api, "/v1/apps/api/envs/prod")["release"]["version"]
    listed = f"#needs-list li[data-request={js(promotion['id'])}]"
    await page.evaluate(f"document.querySelector({js(listed + ' button.approve')}).click()")
    await page.until(
        "document.querySelector('#request-status')?.innerText === 'released'", "the release"
    )
    await page.until(
        f"!document.querySelector('#needs-list li[data-request={js(promotion['id'])}]')",
        "the list without it",
    )
    after = read(api, "/v1/apps/api/envs/prod")["release"]["version"]
    assert after == before + 1
    await page.until(
        f"!!document.querySelector(\"g.lane[data-lane='api/prod'] g.bar[data-version='{after}']\")",
        "the new release on the timeline",
    )
    await page.until(
        f"document.querySelector(\".env[data-key='api/prod']\").innerText.includes('v{after}')",
        "the new release in its environment",
    )


async def test_a_dropped_feed_is_shown_and_nothing_is_missed(
    fleet: LedgerServer, page: Page
) -> None:
    await show(page, f"{fleet.url}/")
    fleet.stop()
    await page.until("document.querySelector('#status').className === 'down'", "the disconnection")
    banner = await page.until(
        "!document.querySelector('#banner').hidden && document.querySelector('#banner').innerText",
        "the banner",
    )
    assert "disconnected" in banner and "none are lost" in banner
    fleet.launch(same_port=True)
    await asyncio.to_thread(fleet.wait_healthy)
    api = fleet.api()
    flip = {"enabled": True, "reason": "while the page was away"}
    done = await asyncio.to_thread(api.write, "PUT", "/v1/apps/shop/envs/dev/flags/late-flag", flip)
    await page.until("document.querySelector('#status').className === 'live'", "the reconnection")
    item = f"#feed li[data-position='{done['position']}']"
    await page.until(f"!!document.querySelector({js(item)})", "the change made while away")
    assert await page.evaluate(f"document.querySelectorAll({js(item)}).length") == 1
    await page.until(
        "document.querySelector('#banner').innerText.includes('Reconnected')", "the catch-up note"
    )


def test_the_page_and_its_files_are_served_under_a_strict_policy(fleet: LedgerServer) -> None:
    for path in ("/", "/dashboard/js/main.js", "/dashboard/vendor/uPlot.iife.min.js"):
        with urllib.request.urlopen(fleet.url + path, timeout=5) as answer:
            policy = answer.headers["Content-Security-Policy"]
            assert "script-src 'self';" in policy and "unsafe-inline" not in policy, path
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            etag = answer.headers["ETag"]
    again = urllib.request.Request(
        fleet.url + "/dashboard/vendor/uPlot.iife.min.js", headers={"If-None-Match": etag}
    )
    with pytest.raises(urllib.error.HTTPError) as unchanged:
        urllib.request.urlopen(again, timeout=5)
    assert unchanged.value.code == 304
    unchanged.value.close()
    for trick in ("/dashboard/../settings.py", "/dashboard/%2e%2e/__init__.py",
                  "/dashboard/js/", "/dashboard/nothing.js"):  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(fleet.url + trick, timeout=5)
        assert refused.value.code == 404, trick
        refused.value.close()
    # The page names no other origin: it works offline and in an air-gapped cluster.
    with urllib.request.urlopen(fleet.url + "/", timeout=5) as answer:
        page = answer.read().decode()
    assert "http://" not in page and "https://" not in page and "<script>" not in page
