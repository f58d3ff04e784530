"""What actually runs: reporters' reports in, and each environment's runtime and drift out.

A report of one environment becomes one ``report_runtime`` command per app it concerns (the
apps it lists that the ledger knows, and with ``complete`` every app released there that it
does not list), handed to the writer together so they share a transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
from aiohttp import web

from ledger.domain import commands as c
from ledger.domain.policy import Forbidden, has_scope
from ledger.eventstore.runtime import runtime_at
from ledger.http.consistency import caught_up
from ledger.http.keys import SETTINGS, STORE, VIEWS, WRITER
from ledger.http.problems import Unprocessable
from ledger.http.requests import command_from, context_from, read_object
from ledger.http.responses import json_response
from ledger.service.drift import durations_of, not_in_sync, runtime_now_view
from ledger.wire.runtime import (
    MAX_INSTANCES,
    DriftList,
    Durations,
    ReportAnswer,
    RuntimeReport,
    RuntimeView,
    runtime_view,
)
from ledger.wire.shapes import AppView

SCOPE = "runtime:write"


async def post_report(request: web.Request) -> web.Response:
    """Record a report: 201 with what it appended, or 200 with ``appended: 0`` (no change)."""
    report = msgspec.convert(await read_object(request), RuntimeReport)
    _check_shape(report)
    ctx = context_from(request)
    apps = await (await caught_up(request)).apps()
    known = {a.name for a in apps}
    commands = _commands(report, apps)
    if not commands and not has_scope(ctx, SCOPE):
        raise Forbidden(f"{ctx.actor} lacks the {SCOPE!r} scope needed to report what runs")
    writer = request.app[WRITER]
    results = await asyncio.gather(*(writer.run(cmd, ctx) for cmd in commands))
    views = request.app[VIEWS]
    now = datetime.now(UTC)
    await views.heartbeats.record(report.env, report.reporter, [cmd.app for cmd in commands], now)
    changed = [cmd.app for cmd, result in zip(commands, results, strict=True) if result.position]
    answer = ReportAnswer(
        position=max((r.position for r in results), default=0),
        appended=len(changed),
        changed_apps=changed,
        unknown_apps=sorted({w.app for w in report.workloads} - known),
    )
    return json_response(answer, 201 if changed else 200)


async def post_app_report(request: web.Request) -> web.Response:
    """One app's report (a ``report_runtime`` command): 201 when it changed what the ledger
    shows, 200 when not."""
    cmd = await command_from(request, c.ReportRuntime, {})
    result = await request.app[WRITER].run(cmd, context_from(request))
    now = datetime.now(UTC)
    await request.app[VIEWS].heartbeats.record(cmd.env, cmd.reporter, [cmd.app], now)
    return json_response(result, 201 if result.position else 200)


def _check_shape(report: RuntimeReport) -> None:
    """At most MAX_INSTANCES instances in all, each app listed once."""
    total = sum(len(w.instances) for w in report.workloads)
    if total > MAX_INSTANCES:
        raise Unprocessable("workloads", f"{total} instances; at most {MAX_INSTANCES} a report")
    seen: set[str] = set()
    for index, workload in enumerate(report.workloads):
        if workload.app in seen:
            raise Unprocessable(f"workloads[{index}].app", f"{workload.app!r} is listed twice")
        seen.add(workload.app)


def _commands(report: RuntimeReport, apps: list[AppView]) -> list[c.ReportRuntime]:
    """One command per known app the report concerns."""
    known = {a.name for a in apps}
    listed = {w.app: w.instances for w in report.workloads if w.app in known}
    if report.complete:  # what it does not list does not run there, as far as it knows
        released = [a.name for a in apps if any(e.env == report.env for e in a.envs)]
        listed |= {app: [] for app in released if app not in listed}
    return [
        c.ReportRuntime(
            app=app,
            env=report.env,
            reporter=report.reporter,
            observed_at=report.observed_at,
            complete=report.complete,
            instances=instances,
        )
        for app, instances in sorted(listed.items())
    ]


def durations(request: web.Request) -> Durations:
    return durations_of(request.app[SETTINGS])


async def runtime_of(request: web.Request, app: str, env: str) -> RuntimeView:
    """What runs in ``env`` now against what its release line expects."""
    heartbeats = request.app[VIEWS].heartbeats
    now = datetime.now(UTC)
    return await runtime_now_view(
        request.app[STORE], heartbeats, (app, env), durations(request), now
    )


async def runtime_then(
    request: web.Request, app: str, env: str, position: int, now: datetime
) -> RuntimeView:
    """The runtime as it was when the log ended at ``position`` (reporters' silence aside:
    the time of an unchanged report is not in the log)."""
    runtime, line = await asyncio.to_thread(runtime_at, request.app[STORE], app, env, position)
    timeless = Durations(grace=durations(request).grace, stale=timedelta.max)
    return runtime_view(runtime, line, {}, now, timeless)


async def drift(request: web.Request) -> web.Response:
    """Every environment whose runtime is not in sync (?app=, ?env= narrow the list): those
    with events, and those where reporters saw an app the ledger never released there."""
    queries = await caught_up(request)
    app, env = request.query.get("app"), request.query.get("env")
    heartbeats, now = request.app[VIEWS].heartbeats, datetime.now(UTC)
    items = await not_in_sync(
        request.app[STORE], queries, heartbeats, durations(request), now, app=app, env=env
    )
    return json_response(DriftList(items=items))
