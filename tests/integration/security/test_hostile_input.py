"""Hostile input gets a problem (never a 500), leaves nothing in the ledger, and the server keeps
answering: oversized, deeply nested, mis-encoded and slow bodies, odd paths and parameters,
replays and races."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ledger.domain.text import is_storable

Ledger = Any
StartLedger = Any
SHOP = "/v1/apps/shop"
STAGING = f"{SHOP}/envs/staging"
ONE_MIB = 1024 * 1024
REFUSED = (400, 404, 405, 413, 422)


@pytest.fixture
async def shop(ledger: Ledger) -> Ledger:
    """Open mode; builds b-ci and b-two exist, b-ci runs in staging (v1)."""
    await ledger.seed(ledger.actor("setup"))
    return ledger


async def assert_refused(
    ledger: Ledger, answer: Any, head: int, statuses: tuple[int, ...] = REFUSED
) -> None:
    """A problem with one of the statuses; nothing appended; the server still answers."""
    assert answer.status in statuses, answer
    answer.problem(answer.status)
    await ledger.assert_nothing_appended(head)
    assert (await ledger.anonymous.get("/healthz")).status == 200


# --------------------------------------------------------------------------------------------
# Bodies


async def test_a_body_over_1_mib_is_413(shop: Ledger) -> None:
    head = await shop.head()
    body = {"build_id": "b-two", "description": "x" * ONE_MIB}
    answer = await shop.anonymous.request("POST", f"{STAGING}/deploys", body)
    await assert_refused(shop, answer, head, (413,))


async def test_a_chunked_body_over_1_mib_is_413(shop: Ledger) -> None:
    """No Content-Length to trust: the limit holds while the body streams in."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"build_id": "b-two", "description": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    head = await shop.head()
    answer = await shop.anonymous.request("POST", f"{STAGING}/deploys", raw=chunks())
    await assert_refused(shop, answer, head, (413,))


NESTED = {
    "open-arrays": b"[" * 100_000,
    "open-objects": b'{"a":' * 100_000,
    "closed-arrays-in-a-field": b'{"build_id": "b-two", "description": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
}


@pytest.mark.parametrize("path", [f"{STAGING}/deploys", "/v1/events:batch"])
@pytest.mark.parametrize("raw", list(NESTED))
async def test_deeply_nested_json_is_refused(shop: Ledger, raw: str, path: str) -> None:
    head = await shop.head()
    answer = await shop.anonymous.request("POST", path, raw=NESTED[raw])
    await assert_refused(shop, answer, head, (400, 422))


BUILD = {
    "build_id": "b-huge",
    "commit": "abcdef12",
    "status": "succeeded",
    "artifact": {"digest": "sha256:" + "a" * 64},
}
HUGE = 500_000
HUGE_FIELDS = {
    "deploy-description": (
        "POST",
        f"{STAGING}/deploys",
        {"build_id": "b-two", "description": "x" * 5000},
    ),
    "config-value": ("POST", f"{STAGING}/config", {"set": {"A": "v" * 70_000}}),
    "config-key": ("POST", f"{STAGING}/config", {"set": {"K" * 300: "v"}}),
    "rollback-reason": ("POST", f"{STAGING}/rollback", {"reason": "r" * 5000}),
    "migration-schema-version": (
        "POST",
        f"{STAGING}/migrations",
        {"migration_id": "m1", "schema_version": "9" * 200, "reversible": True},
    ),
    "app-description": ("POST", "/v1/apps", {"name": "huge", "description": "d" * 5000}),
    "build-branch": ("POST", f"{SHOP}/builds", BUILD | {"branch": "b" * 300}),
    "build-artifact-digest": (
        "POST",
        f"{SHOP}/builds",
        BUILD | {"artifact": {"digest": "sha256:" + "a" * HUGE}},
    ),
    "build-artifact-url": (
        "POST",
        f"{SHOP}/builds",
        BUILD | {"artifact": {"digest": "sha256:1", "url": "https://x/" + "u" * HUGE}},
    ),
    "build-pipeline-name": (
        "POST",
        f"{SHOP}/builds",
        BUILD | {"pipeline": {"name": "p" * HUGE, "run_id": "1"}},
    ),
    "build-pipeline-run-id": (
        "POST",
        f"{SHOP}/builds",
        BUILD | {"pipeline": {"name": "ci", "run_id": "9" * HUGE}},
    ),
    "flag-name": ("PUT", f"{STAGING}/flags/{'f' * 200}", {"enabled": True}),
}


@pytest.mark.parametrize("case", list(HUGE_FIELDS))
async def test_huge_strings_in_fields_are_422(shop: Ledger, case: str) -> None:
    head = await shop.head()
    answer = await shop.anonymous.request(*HUGE_FIELDS[case])
    await assert_refused(shop, answer, head, (422,))


NOT_UTF8 = {
    "in-a-string": b'{"build_id": "b-two", "description": "caf\xe9"}',
    "before-the-json": b'\xff\xfe{"build_id": "b-two"}',
    "utf-16": '{"build_id": "b-two"}'.encode("utf-16"),
}


@pytest.mark.parametrize("raw", list(NOT_UTF8))
async def test_a_body_that_is_not_utf8_is_400(shop: Ledger, raw: str) -> None:
    head = await shop.head()
    answer = await shop.anonymous.request("POST", f"{STAGING}/deploys", raw=NOT_UTF8[raw])
    await assert_refused(shop, answer, head, (400,))


NUL_TEXT = {
    "flag-reason": ("PUT", f"{STAGING}/flags/beta", {"enabled": True, "reason": "a\u0000b"}),
    "deploy-description": (
        "POST",
        f"{STAGING}/deploys",
        {"build_id": "b-two", "description": "a\u0000b"},
    ),
    "app-description": ("POST", "/v1/apps", {"name": "nul", "description": "a\u0000b"}),
    "build-branch": ("POST", f"{SHOP}/builds", BUILD | {"branch": "main\u0000"}),
    "lone-surrogate": (
        "POST",
        f"{STAGING}/deploys",
        {"build_id": "b-two", "description": "\ud800"},
    ),
}


@pytest.mark.parametrize("case", list(NUL_TEXT))
async def test_a_character_no_store_keeps_is_refused_and_never_stops_the_views(
    shop: Ledger, case: str
) -> None:
    """PostgreSQL text cannot hold U+0000, and no store a lone surrogate: 422 naming the field,
    and the views are never stuck behind such an event."""
    method, path, body = NUL_TEXT[case]
    head = await shop.head()
    answer = await shop.anonymous.request(method, path, body)
    await assert_refused(shop, answer, head, (422,))
    field = next(k for k, v in body.items() if isinstance(v, str) and not is_storable(v))
    assert [e["field"] for e in answer.json["errors"]] == [field], answer
    later = await shop.anonymous.write("PUT", f"{STAGING}/flags/after", {"enabled": True})
    page = await shop.anonymous.get("/v1/history", min_position=later["position"])
    assert page.status == 200, page
    assert later["position"] in [i["position"] for i in page.json["items"]]


# --------------------------------------------------------------------------------------------
# Paths and parameters (sent as raw bytes: no client normalises them first)


HOSTILE_PATHS = [
    "/v1/apps/sh%0d%0aop",
    "/v1/apps/sh%0d%0aop/envs/prod",
    "/v1/apps/sh%0aSet-Cookie:%20x=1/envs/prod",
    "/v1/apps/%2e%2e/envs/prod",
    "/v1/apps/..%2f..%2fetc%2fpasswd/envs/prod",
    "/v1/apps/shop/envs/..%2f..%2fetc%2fpasswd",
    "/v1/apps/shop/envs/%2e%2e%2f%2e%2e",
    "/v1/apps/sh%C3%B6p/envs/prod",
    "/v1/apps/shop%00/envs/prod",
    "/v1/apps/%EF%BC%B3hop/envs/prod",
    f"{STAGING}/releases/%C2%B2",
    f"{STAGING}/releases/1e3",
    f"{STAGING}/releases/-1",
    f"{STAGING}/releases/99999999999999999999999",
    "/v1/history?limit=%C2%B2",
    "/v1/history?after=99999999999999999999999",
    "/v1/history?limit=99999999999999999999999",
    "/v1/history?cursor=..%2f..%2f",
    "/v1/history?cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ",
    "/v1/history?actor=%00",
    "/v1/history?app=shop%00",
    "/v1/history?q=%00",
    "/v1/history?since=%00",
    f"{STAGING}?min_position=%C2%B2",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
async def test_hostile_read_paths_are_refused_never_500(shop: Ledger, path: str) -> None:
    status, body = await shop.raw_http(
        f"GET {path} HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n".encode()
    )
    assert status in (*REFUSED, 200), (path, status, body)
    assert (await shop.anonymous.get("/healthz")).status == 200


HOSTILE_WRITES = [
    ("POST", "/v1/apps/sh%0d%0aop/envs/prod/deploys", b'{"build_id": "b-ci"}'),
    ("POST", "/v1/apps/..%2fshop/envs/prod/deploys", b'{"build_id": "b-ci"}'),
    ("POST", "/v1/apps/shop/envs/%2e%2e/deploys", b'{"build_id": "b-ci"}'),
    ("PUT", f"{STAGING}/flags/..%2f..%2fadmin", b'{"enabled": true}'),
    ("PUT", f"{STAGING}/flags/%2e%2e", b'{"enabled": true}'),
    ("PUT", f"{STAGING}/flags/be%0d%0ata", b'{"enabled": true}'),
    ("POST", f"{STAGING}/releases/%C2%B2/rollout", b'{"percent": 50}'),
    ("POST", f"{STAGING}/releases/99999999999999999999999/rollout", b'{"percent": 50}'),
    ("POST", f"{STAGING}/rollback", b'{"reason": "r", "to_version": 99999999999999999999999}'),
    (
        "POST",
        f"{SHOP}/builds",
        b'{"build_id": "../../etc", "commit": "abcd", '
        b'"status": "succeeded", "artifact": {"digest": "sha256:1"}}',
    ),
]


@pytest.mark.parametrize(("method", "path", "body"), HOSTILE_WRITES)
async def test_hostile_write_paths_are_refused_never_500(
    shop: Ledger, method: str, path: str, body: bytes
) -> None:
    head = await shop.head()
    request = (
        f"{method} {path} HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    status, answer = await shop.raw_http(request)
    assert status in REFUSED, (path, status, answer)
    await shop.assert_nothing_appended(head)


# --------------------------------------------------------------------------------------------
# Slow clients, replays, races


async def test_a_body_that_trickles_in_times_out_with_408(start: StartLedger) -> None:
    ledger = await start(body_timeout_seconds=1.0)
    await ledger.seed(ledger.actor("setup"))
    head = await ledger.head()
    reader, writer = await asyncio.open_connection("127.0.0.1", ledger.port)
    writer.write(
        f"POST {STAGING}/deploys HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\n"
        "Content-Length: 200\r\n\r\n{".encode()
    )

    async def trickle() -> None:
        for _ in range(100):
            await asyncio.sleep(0.2)
            writer.write(b" ")
            await writer.drain()

    trickling = asyncio.create_task(trickle())
    started = time.monotonic()
    try:
        status_line = await asyncio.wait_for(reader.readline(), 10)
        waited = time.monotonic() - started
    finally:
        trickling.cancel()
        writer.close()
        await asyncio.gather(trickling, writer.wait_closed(), return_exceptions=True)
    assert status_line.split()[1] == b"408", status_line
    assert 0.9 <= waited < 5, waited
    await ledger.assert_nothing_appended(head)


async def test_an_idempotency_key_returns_the_first_result_and_never_appends_twice(
    shop: Ledger,
) -> None:
    key = {"Idempotency-Key": "deploy-b-two"}
    first = await shop.anonymous.write(
        "POST", f"{STAGING}/deploys", {"build_id": "b-two"}, headers=key
    )
    head = await shop.head()

    again = await shop.anonymous.request(
        "POST", f"{STAGING}/deploys", {"build_id": "b-two"}, headers=key
    )
    assert again.status == 201, again
    assert again.headers.get("idempotent-replayed") == "true", again
    assert {**again.json, "replayed": False} == {**first, "replayed": False}
    other = await shop.anonymous.request(
        "POST", f"{STAGING}/deploys", {"build_id": "b-ci"}, headers=key
    )
    other.problem(409)
    await shop.assert_nothing_appended(head)


async def test_concurrent_deploys_and_rollbacks_number_releases_without_gaps(
    shop: Ledger,
) -> None:
    bots = [shop.actor(f"bot-{n}", "ci") for n in range(30)]

    async def send(n: int) -> Any:
        if n % 3 == 2:
            return await bots[n].request("POST", f"{STAGING}/rollback", {"reason": f"race {n}"})
        build = ("b-ci", "b-two")[n % 2]
        return await bots[n].request("POST", f"{STAGING}/deploys", {"build_id": build})

    answers = await asyncio.gather(*(send(n) for n in range(30)))

    assert all(a.status in (201, 409) for a in answers), [a for a in answers if a.status >= 300]
    made = sorted(a.json["release"]["version"] for a in answers if a.status == 201)
    assert len(made) >= 20, answers
    assert made == list(range(2, len(made) + 2))  # v1 was the seed's deploy
    releases = await shop.reader.read(f"{STAGING}/releases", min_position=await shop.head())
    assert sorted(r["version"] for r in releases["releases"]) == list(range(1, len(made) + 2))


WEBHOOK_URLS = {
    "control-characters": "https://\u023a\b\u00d8[~\u0019",
    "no-host": "http://",
    "file-scheme": "file:///etc/passwd",
    "javascript-scheme": "javascript:alert(1)",
    "unclosed-ipv6": "http://[::1",
    "crlf": "https://hooks.example/a\r\nX-Injected: 1",
    "huge": "https://hooks.example/" + "a" * 100_000,
}


@pytest.mark.parametrize("url", list(WEBHOOK_URLS))
async def test_a_webhook_url_that_is_not_one_is_refused_never_500(shop: Ledger, url: str) -> None:
    answer = await shop.anonymous.request("POST", "/v1/webhooks", {"url": WEBHOOK_URLS[url]})
    assert answer.status in (400, 422), answer
    answer.problem(answer.status)
    listed = await shop.anonymous.read("/v1/webhooks")
    assert listed["webhooks"] == [], listed
