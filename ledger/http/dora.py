"""DORA metrics over HTTP: of one environment, and across apps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from ledger.domain.errors import NotFound
from ledger.domain.names import check_name
from ledger.http.consistency import caught_up
from ledger.http.keys import STORE
from ledger.http.parameters import int_param, names, time_param
from ledger.http.problems import Unprocessable
from ledger.http.responses import json_response
from ledger.service.dora import Window, report
from ledger.service.dora_weeks import WEEK, end_of_day, weekly_report

MAX_DAYS = 366
MAX_WEEKS = 52
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def window_of(request: web.Request, app: str | None, env: str | None) -> Window:
    """?days= (1-366, default 30), ?until= (default now), ?include_config=true|false."""
    days = int_param(request, "days", 30)
    if days is None or not 1 <= days <= MAX_DAYS:
        raise Unprocessable("days", f"must be between 1 and {MAX_DAYS}")
    return Window(
        days=days,
        until=until_of(request, timedelta(days=days), datetime.now(UTC)),
        app=app,
        env=env,
        include_config=include_config(request),
        breakdown=app is None or env is None,
    )


def until_of(request: web.Request, span: timedelta, default: datetime) -> datetime:
    """?until= (default ``default``): the end of a window ``span`` long, which must begin and
    end within the years 1-9999 in UTC."""
    until = time_param(request, "until") or default
    try:
        for moment in (until, until - span):
            moment.astimezone(UTC)
    except OverflowError:
        raise Unprocessable("until", "the window must lie within the years 1-9999") from None
    return until


def include_config(request: web.Request) -> bool:
    """?include_config=true|false (default false)."""
    raw = request.query.get("include_config", "false").lower()
    if raw not in BOOLEANS:
        raise Unprocessable("include_config", "must be true or false")
    return BOOLEANS[raw]


def scope_of(request: web.Request) -> tuple[str | None, str | None]:
    """?app= and ?env=, each a name or absent (every app, every environment)."""
    app, env = (request.query.get(name) or None for name in ("app", "env"))
    for name, value in (("app", app), ("env", env)):
        if value is not None:
            check_name(value, name)
    return app, env


async def environment_dora(request: web.Request) -> web.Response:
    """GET /v1/apps/{app}/envs/{env}/dora"""
    queries = await caught_up(request)
    app, env = names(request)
    window = window_of(request, app, env)
    if await queries.state(app, env) is None:
        raise NotFound(f"{app}/{env} has no events")
    return json_response(await report(queries, request.app[STORE], window))


async def all_dora(request: web.Request) -> web.Response:
    """GET /v1/dora: pooled over every environment (of ?app=, named ?env=), with a breakdown."""
    queries = await caught_up(request)
    app, env = scope_of(request)
    window = window_of(request, app, env)
    return json_response(await report(queries, request.app[STORE], window))


async def dora_weeks(request: web.Request) -> web.Response:
    """GET /v1/dora/weeks: /v1/dora's metrics in each of ?weeks= (1-52, default 12) 7-day
    windows, oldest first, the last ending at ?until= (default: the next UTC midnight)."""
    queries = await caught_up(request)
    app, env = scope_of(request)
    weeks = int_param(request, "weeks", 12)
    if weeks is None or not 1 <= weeks <= MAX_WEEKS:
        raise Unprocessable("weeks", f"must be between 1 and {MAX_WEEKS}")
    scope = Window(
        days=7,
        until=until_of(request, weeks * WEEK, end_of_day(datetime.now(UTC))),
        app=app,
        env=env,
        include_config=include_config(request),
    )
    return json_response(await weekly_report(queries, request.app[STORE], scope, weeks))
