"""Read handlers: queries of the views, with bounded read-your-writes waits."""

from __future__ import annotations

import asyncio

import msgspec
from aiohttp import web

from ledger.domain.errors import NotFound
from ledger.domain.names import MAX_VERSION, environment_id, is_count
from ledger.eventstore.application import read_batch
from ledger.http.auth import may_read_secrets
from ledger.http.consistency import caught_up
from ledger.http.keys import STORE, VIEWS
from ledger.http.parameters import history_query, int_param, names
from ledger.http.past import past_state
from ledger.http.problems import Unprocessable
from ledger.http.responses import json_response
from ledger.http.runtime import runtime_of
from ledger.service.messages import messages_of
from ledger.wire.cloudevents import CloudEvent
from ledger.wire.shapes import AppList, ReleaseList, StateView


async def list_apps(request: web.Request) -> web.Response:
    queries = await caught_up(request)
    return json_response(AppList(apps=await queries.apps()))


async def get_app(request: web.Request) -> web.Response:
    queries = await caught_up(request)
    app, _ = names(request)
    found = await queries.app(app)
    if found is None:
        raise NotFound(f"app {app!r} does not exist")
    return json_response(found)


async def get_state(request: web.Request) -> web.Response:
    """The current state, or with ?at=, ?release= or ?position= the state as it was then."""
    queries = await caught_up(request)
    app, env = names(request)
    past = await past_state(request, queries, app, env)
    if past is not None:
        return json_response(past)
    state = await queries.state(app, env)
    runtime = await runtime_of(request, app, env)
    if state is None and not runtime.instances:
        raise NotFound(f"{app}/{env} has no events")
    if state is None:  # reporters see the app running where the ledger released nothing
        state = StateView(
            app=app, env=env, release=None, config={}, flags={}, schema_version=None, position=0
        )
    elif may_read_secrets(request):
        await _reveal_secrets(request, state)
    state.runtime = runtime
    return json_response(state)


async def _reveal_secrets(request: web.Request, state: StateView) -> None:
    """Plaintext secrets for secrets:read principals, where the stored value is the one shown."""
    stream_id = environment_id(state.app, state.env)
    stored = await asyncio.to_thread(request.app[STORE].moment, stream_id)
    if stored is None:
        return
    fingerprint = request.app[VIEWS].fingerprints.fingerprint
    for key, shown in state.config.items():
        plain = stored.state.config.get(key)
        if plain is not None and shown == fingerprint(plain):
            state.config[key] = plain


async def list_releases(request: web.Request) -> web.Response:
    queries = await caught_up(request)
    app, env = names(request)
    releases = await queries.releases(app, env)
    if releases is None:
        raise NotFound(f"{app}/{env} has no events")
    return json_response(ReleaseList(releases=releases))


async def get_release(request: web.Request) -> web.Response:
    queries = await caught_up(request)
    app, env = names(request)
    version = request.match_info["version"]
    if not is_count(version, MAX_VERSION):
        raise Unprocessable("version", f"{version!r} is not a release number")
    release = await queries.release(app, env, int(version))
    if release is None:
        raise NotFound(f"release v{version} of {app}/{env} does not exist")
    return json_response(release)


async def history(request: web.Request) -> web.Response:
    queries = await caught_up(request)
    page = await queries.history(history_query(request))
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
        messages = messages_of(store, batch, request.app[VIEWS].fingerprints)
        return [m.cloudevent for m in messages], last

    cloudevents, last = await asyncio.to_thread(read)
    return web.Response(
        body=msgspec.json.encode(cloudevents),
        content_type="application/cloudevents-batch+json",
        headers={"Ledger-Next-After": str(last)},
    )
