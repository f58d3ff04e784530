"""Read handlers: queries of the views, with bounded read-your-writes waits."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import msgspec
from aiohttp import web

from ledger.cloudevents import CloudEvent
from ledger.domain.commands import Name
from ledger.domain.errors import NotFound
from ledger.domain.model import Environment
from ledger.domain.names import environment_id
from ledger.domain.secrets import fingerprint
from ledger.follower import read_batch
from ledger.http.keys import PRINCIPAL, SETTINGS, STORE, VIEWS
from ledger.http.problems import Unprocessable
from ledger.http.writes import json_response
from ledger.jetstream.messages import messages_of
from ledger.schemas import AppList, ReleaseList, StateView


class _Names(msgspec.Struct, frozen=True):
    app: Name
    env: Name | None = None


def names(request: web.Request) -> tuple[str, str]:
    """The app and env of the path, validated like any name."""
    info = request.match_info
    checked = msgspec.convert({"app": info["app"], "env": info.get("env")}, _Names)
    return checked.app, checked.env or ""


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise Unprocessable(name, f"{raw!r} is not a non-negative integer")
    return int(raw)


async def caught_up(request: web.Request) -> None:
    """Honour ?min_position=P: wait (bounded) until the views include position P."""
    wanted = int_param(request, "min_position")
    if wanted is None:
        return
    views = request.app[VIEWS]
    if not await views.runner.wait_for(wanted, request.app[SETTINGS].read_wait_seconds):
        raise web.HTTPServiceUnavailable(
            reason="Views behind", text=f"the views have not reached position {wanted} yet"
        )


async def list_apps(request: web.Request) -> web.Response:
    await caught_up(request)
    return json_response(AppList(apps=await request.app[VIEWS].queries.apps()))


async def get_app(request: web.Request) -> web.Response:
    await caught_up(request)
    app, _ = names(request)
    found = await request.app[VIEWS].queries.app(app)
    if found is None:
        raise NotFound(f"app {app!r} does not exist")
    return json_response(found)


async def get_state(request: web.Request) -> web.Response:
    await caught_up(request)
    app, env = names(request)
    state = await request.app[VIEWS].queries.state(app, env)
    if state is None:
        raise NotFound(f"{app}/{env} has no events")
    principal = request[PRINCIPAL]
    if principal is not None and (
        "secrets:read" in principal.scopes or "admin" in principal.scopes
    ):
        await _reveal_secrets(request, state)
    return json_response(state)


async def _reveal_secrets(request: web.Request, state: StateView) -> None:
    """Plaintext secrets for secrets:read principals, where the stored value is the one shown."""
    stored = await asyncio.to_thread(request.app[STORE].load, environment_id(state.app, state.env))
    if not isinstance(stored, Environment):
        return
    for key, shown in state.config.items():
        plain = stored.config.get(key)
        if plain is not None and shown == fingerprint(plain):
            state.config[key] = plain


async def list_releases(request: web.Request) -> web.Response:
    await caught_up(request)
    app, env = names(request)
    releases = await request.app[VIEWS].queries.releases(app, env)
    if releases is None:
        raise NotFound(f"{app}/{env} has no events")
    return json_response(ReleaseList(releases=releases))


async def get_release(request: web.Request) -> web.Response:
    await caught_up(request)
    app, env = names(request)
    version = request.match_info["version"]
    if not version.isdigit():
        raise Unprocessable("version", f"{version!r} is not a release number")
    release = await request.app[VIEWS].queries.release(app, env, int(version))
    if release is None:
        raise NotFound(f"release v{version} of {app}/{env} does not exist")
    return json_response(release)


def _history_query(request: web.Request) -> Any:
    from projections.queries import HistoryQuery

    fields: dict[str, Any] = {}
    for name in ("app", "env", "kind", "actor", "q", "cursor"):
        if name in request.query:
            fields[name] = request.query[name]
    for name in ("since", "until"):
        if name in request.query:
            try:
                fields[name] = datetime.fromisoformat(request.query[name])
            except ValueError:
                raise Unprocessable(name, "must be an RFC 3339 timestamp") from None
    for name in ("limit", "after"):
        value = int_param(request, name)
        if value is not None:
            fields[name] = value
    return msgspec.convert(fields, HistoryQuery)


async def history(request: web.Request) -> web.Response:
    await caught_up(request)
    page = await request.app[VIEWS].queries.history(_history_query(request))
    return json_response(page)


EVENTS_LIMIT = 1000


async def events(request: web.Request) -> web.Response:
    """The raw log as CloudEvents (batched JSON), for consumers that backfill over HTTP.

    ``Ledger-Next-After`` is the position to pass as ``after`` next: it moves on even when a
    page holds only bookkeeping entries that are not published."""
    after = int_param(request, "after", 0) or 0
    limit = min(int_param(request, "limit", 100) or 100, EVENTS_LIMIT)
    store = request.app[STORE]

    def read() -> tuple[list[CloudEvent], int]:
        batch = read_batch(store, after, limit)
        last = batch[-1][0] if batch else after
        return [m.cloudevent for m in messages_of(store, batch)], last

    cloudevents, last = await asyncio.to_thread(read)
    return web.Response(
        body=msgspec.json.encode(cloudevents),
        content_type="application/cloudevents-batch+json",
        headers={"Ledger-Next-After": str(last)},
    )
