"""Read handlers: queries of the views, with bounded read-your-writes waits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web

from ledger.application import read_batch
from ledger.cloudevents import CloudEvent
from ledger.domain.commands import Name
from ledger.domain.errors import NotFound
from ledger.domain.names import MAX_VERSION, environment_id, is_count
from ledger.http.consistency import included, wants_latest
from ledger.http.keys import PRINCIPAL, STORE, VIEWS
from ledger.http.problems import Unprocessable
from ledger.http.writes import json_response
from ledger.jetstream.messages import messages_of
from ledger.schemas import AppList, ReleaseList, StateView
from projections.queries import Queries


class _Names(msgspec.Struct, frozen=True):
    app: Name
    env: Name | None = None


def names(request: web.Request) -> tuple[str, str]:
    """The app and env of the path, validated like any name."""
    info = request.match_info
    checked = msgspec.convert({"app": info["app"], "env": info.get("env")}, _Names)
    return checked.app, checked.env or ""


def time_param(request: web.Request, name: str) -> datetime | None:
    """An RFC 3339 timestamp of the query (one without an offset is taken as UTC)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Unprocessable(name, "must be an RFC 3339 timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not is_count(raw):
        raise Unprocessable(name, f"{raw!r} is not a non-negative integer")
    return int(raw)


async def caught_up(request: web.Request, *, from_views: bool = True) -> Queries:
    """Wait (bounded) until the views include what the read must (``ledger.http.consistency``)
    and return the queries to answer with: the read replica's when it has it too, else the
    primary's. A read answered from the event store (``from_views=False``) waits only for
    ``?min_position=``: the store holds every acknowledged write already."""
    asked = int_param(request, "min_position")
    latest = from_views and wants_latest(request)
    wanted = await included(request, asked, latest=latest)
    return await request.app[VIEWS].queries_for(wanted)


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
    from ledger.http.past import past_state

    queries = await caught_up(request)
    app, env = names(request)
    past = await past_state(request, queries, app, env)
    if past is not None:
        return json_response(past)
    state = await queries.state(app, env)
    if state is None:
        raise NotFound(f"{app}/{env} has no events")
    if may_read_secrets(request):
        await _reveal_secrets(request, state)
    return json_response(state)


def may_read_secrets(request: web.Request) -> bool:
    """Plaintext secrets only for principals with secrets:read (or admin); never in open mode."""
    principal = request[PRINCIPAL]
    return principal is not None and bool({"secrets:read", "admin"} & principal.scopes)


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


HISTORY_TEXT_FILTERS = (
    "app", "env", "kind", "actor", "actor_kind", "via", "correlation_id", "q", "cursor",
)  # fmt: skip


def _no_nul(request: web.Request) -> None:
    for name, value in request.query.items():
        if "\x00" in value:
            raise Unprocessable(name, "must not contain NUL characters")


def history_query(request: web.Request) -> Any:
    """The HistoryQuery of the request's filters (422 for a bad one)."""
    _no_nul(request)
    from projections.queries import HistoryQuery

    fields: dict[str, Any] = {}
    for name in HISTORY_TEXT_FILTERS:
        if name in request.query:
            fields[name] = request.query[name]
    for name in ("since", "until"):
        moment = time_param(request, name)
        if moment is not None:
            fields[name] = moment
    for name in ("limit", "after"):
        value = int_param(request, name)
        if value is not None:
            fields[name] = value
    return msgspec.convert(fields, HistoryQuery)


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
