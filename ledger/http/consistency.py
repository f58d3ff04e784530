"""What a read includes: by default every write acknowledged before it began (the log's head
as of the request), with ``?min_position=P`` at least P, and with ``?consistency=eventual``
the views as they are (no head, no wait: for dashboards and pollers)."""

from __future__ import annotations

from aiohttp import web

from ledger.http.keys import LEDGER, SETTINGS, VIEWS
from ledger.http.parameters import int_param
from ledger.http.problems import Unprocessable
from projections.queries import Queries

LATEST, EVENTUAL = "latest", "eventual"
CONSISTENCY = (LATEST, EVENTUAL)


async def caught_up(request: web.Request, *, from_views: bool = True) -> Queries:
    """Wait (bounded) until the views include what the read must and return the queries to
    answer with: the read replica's when it has it too, else the primary's. A read answered
    from the event store (``from_views=False``) waits only for ``?min_position=``: the store
    holds every acknowledged write already."""
    asked = int_param(request, "min_position")
    latest = from_views and wants_latest(request)
    wanted = await included(request, asked, latest=latest)
    return await request.app[VIEWS].queries_for(wanted)


def wants_latest(request: web.Request) -> bool:
    """Whether the read must include the log's head (``?consistency=latest``, the default)."""
    chosen = request.query.get("consistency", LATEST)
    if chosen not in CONSISTENCY:
        raise Unprocessable("consistency", f"must be {LATEST} (the default) or {EVENTUAL}")
    return chosen == LATEST


async def included(request: web.Request, asked: int | None, *, latest: bool) -> int | None:
    """The position the read must include, once the views include it (waiting at most
    LEDGER_READ_WAIT_SECONDS); None when the read takes the views as they are.

    ``asked`` is ``?min_position=``: 422 when beyond the log's head, which it names."""
    runner = request.app[VIEWS].runner
    if not latest and (asked is None or asked <= runner.position):
        return asked  # known to be reached: no query at all
    log_head = request.app[LEDGER].head
    head, views = await log_head.reached()
    if asked is not None and asked > head and asked > (head := await log_head.stored()):
        raise Unprocessable("min_position", f"{asked} is beyond the log's head, {head}")
    wanted = max(asked or 0, head if latest else 0)
    if views < wanted:
        await _wait(request, wanted)
    return wanted


async def _wait(request: web.Request, wanted: int) -> None:
    seconds = request.app[SETTINGS].read_wait_seconds
    if not await request.app[VIEWS].wait_for(wanted, seconds):
        raise web.HTTPServiceUnavailable(
            reason="Views behind",
            text=f"the views have not reached position {wanted} within {seconds:g}s; "
            "retry, or read with ?consistency=eventual for the views as they are",
        )
