"""What the tests of unstorable strings share: the characters, the bodies that carry them,
the app they write to, and the checks that nothing was appended and the views reach the head."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

from ledger.domain.text import STORABLE_PATTERN

Api = Any  # tests/e2e/conftest.py
SHOP = "/v1/apps/shop"
STAGING = f"{SHOP}/envs/staging"
BUILD = {
    "build_id": "ok",
    "commit": "0123abcd",
    "artifact": {"digest": "sha256:" + "a" * 64},
    "status": "succeeded",
}
PATH_VALUES = {"app": "shop", "env": "staging", "flag": "beta", "version": "1", "id": "none"} | {
    "a": "1", "b": "1", "tree_size": "1", "first": "1", "second": "1",
    "event_id": "00000000-0000-0000-0000-000000000000",
    "build_id": "ok", "request_id": "00000000-0000-0000-0000-000000000000", "name": "none",
}  # fmt: skip
BAD = {"nul": "\x00", "high-surrogate": "\ud800", "low-surrogate": "\udfff"}


def encodings(body: object) -> Iterator[tuple[str, bytes]]:
    """The body as JSON with escapes, and with the bad characters as raw bytes."""
    text = json.dumps(body)  # ensure_ascii: "\u0000", "\ud800" and "\udfff" escapes
    yield "escaped", text.encode()
    raw = text.replace("\\u0000", "\x00").encode()
    raw = raw.replace(b"\\ud800", b"\xed\xa0\x80").replace(b"\\udfff", b"\xed\xbf\xbf")
    yield "raw", raw


def seed(api: Api) -> Api:
    """The app ``shop`` with build ``ok`` running in staging (release 1), flag ``beta``."""
    api.write("POST", "/v1/apps", {"name": "shop"})
    api.write("POST", f"{SHOP}/builds", BUILD)
    api.write("POST", f"{STAGING}/deploys", {"build_id": "ok", "strategy": "canary"})
    api.write("PUT", f"{STAGING}/flags/beta", {"enabled": True})
    return api


def openapi_of(api: Api) -> dict[str, Any]:
    """The server's OpenAPI document."""
    answer = api.get("/openapi.json")
    assert answer.status == 200, answer
    document: dict[str, Any] = answer.json
    return document


def concrete(path: str, **values: str) -> str:
    """The path with its parameters filled in (``values``, else harmless ones)."""
    given = PATH_VALUES | values
    return re.sub(r"{(\w+)}", lambda m: given[m[1]], path)


def refused(answer: Any, field: str) -> str | None:
    """Why the answer is not a 422 naming the field (None: it is); where the field is free text,
    the problem says in words what cannot be stored, not the rule's regular expression."""
    try:
        answer.problem(422, field)
    except AssertionError as error:
        return str(error)
    said = " ".join(e["message"] for e in answer.json.get("errors", []))
    if repr(STORABLE_PATTERN) in said:
        return f"the problem shows the rule's regex instead of saying it: {said!r}"
    return None


def assert_views_reach_the_head(api: Api) -> None:
    """A write made now is read back (read-your-writes), and /readyz reports no lag."""
    probe = api.write("PUT", f"{STAGING}/flags/probe", {"enabled": True})["position"]
    answer = api.get("/v1/history", min_position=probe, limit=1)
    assert answer.status == 200, api.explain(answer)
    assert answer.json["items"][0]["position"] == probe, answer
    deadline = time.monotonic() + 10
    while True:
        ready = api.get("/readyz")
        if ready.status == 200 and ready.json["lag"] == 0:
            return
        assert time.monotonic() < deadline, api.explain(ready)
        time.sleep(0.05)


def assert_nothing_but_probes_since(api: Api, since: int) -> None:
    after = api.history(after=since, limit=500)
    kept = [i for i in after if not (i["kind"] == "flag" and i["data"].get("flag") == "probe")]
    assert kept == [], f"appended: {kept}"
