"""Point-in-time reads: an environment's state as it was at ?at=, ?release= or ?position=,
replayed from the event store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web

from ledger.domain.errors import NotFound
from ledger.eventstore import past
from ledger.http.auth import may_read_secrets
from ledger.http.keys import STORE, VIEWS
from ledger.http.parameters import int_param, time_param
from ledger.http.problems import Unprocessable
from ledger.http.runtime import runtime_then
from ledger.wire.shapes import StateView
from projections.queries import Queries

POINTS = ("at", "release", "position")


async def past_state(
    request: web.Request, queries: Queries, app: str, env: str
) -> StateView | None:
    """The state as it was at ?at=, ?release= or ?position= (one of them); None without any."""
    given = [name for name in POINTS if request.query.get(name, "") != ""]
    if not given:
        return None
    if len(given) > 1:
        raise Unprocessable(
            given[1], f"give one of at, release or position, not {' and '.join(given)}"
        )
    store = request.app[STORE]
    if given[0] == "release":
        version = _positive(request, "release")
        then = await asyncio.to_thread(past.at_release, store, app, env, version)
        position = then.position
    else:
        position = await _position_asked(request, queries, app, env)
        then = await asyncio.to_thread(past.at_position, store, app, env, position)
    fingerprints = request.app[VIEWS].fingerprints
    view = past.state_then(then, fingerprints, reveal_secrets=may_read_secrets(request))
    moment = time_param(request, "at") or then.then.updated_at or datetime.now(UTC)
    view.runtime = await runtime_then(request, app, env, position, moment)
    return view


async def _position_asked(request: web.Request, queries: Queries, app: str, env: str) -> int:
    """?position= as given, or the position of the environment's last event at ?at=."""
    moment = time_param(request, "at")
    if moment is None:
        return _positive(request, "position")
    position = await queries.position_at(app, env, moment)
    if position is None:
        raise NotFound(await _before_first(queries, app, env, moment), field="at")
    return position


async def _before_first(queries: Queries, app: str, env: str, moment: datetime) -> str:
    first = await queries.first_recorded_at(app, env)
    if first is None:
        return f"{app}/{env} has no events"
    return (
        f"{app}/{env} had no events at {moment.isoformat()}; "
        f"its first event was recorded at {first.isoformat()}"
    )


def _positive(request: web.Request, name: str) -> int:
    value = int_param(request, name)
    if value is None or value < 1:
        raise Unprocessable(name, "must be a positive integer")
    return value
