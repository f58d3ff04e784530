"""Diff handlers: what changes from one release to another, or from one environment to
another, replayed from the event store."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ledger.domain.names import check_name, is_count
from ledger.eventstore import past
from ledger.http.consistency import caught_up
from ledger.http.keys import STORE
from ledger.http.parameters import names
from ledger.http.problems import Unprocessable
from ledger.http.responses import json_response


async def release_diff(request: web.Request) -> web.Response:
    """What changes from release a to release b (either order, across rollbacks too)."""
    await caught_up(request, from_views=False)
    app, env = names(request)
    a, b = (_version(request, side) for side in ("a", "b"))
    diff = await asyncio.to_thread(past.release_diff, request.app[STORE], app, env, a, b)
    return json_response(diff)


async def environment_diff(request: web.Request) -> web.Response:
    """What differs from this environment now to ?against_env= now."""
    await caught_up(request, from_views=False)
    app, env = names(request)
    other = request.query.get("against_env", "")
    if not other:
        raise Unprocessable("against_env", "name the environment to compare with")
    check_name(other, "against_env")
    diff = await asyncio.to_thread(past.environment_diff, request.app[STORE], app, env, other)
    return json_response(diff)


def _version(request: web.Request, side: str) -> int:
    raw = request.match_info[side]
    if not is_count(raw) or int(raw) < 1:
        raise Unprocessable(side, f"{raw!r} is not a release number")
    return int(raw)
