"""The gates over HTTP: policies (now or ?at=), their windows, evidence on builds, change
requests with their approvals, and the assessment ``ledger assert`` asks for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
from aiohttp import web

from ledger.domain import commands as c
from ledger.domain.errors import NotFound
from ledger.domain.gate_events import GatedCommand
from ledger.domain.policies import default_policy, resolve
from ledger.domain.requests import ChangeRequest
from ledger.domain.windows import in_force, occurrences
from ledger.eventstore.policies import build_of, change_request, policy_levels, secret_keys
from ledger.http.keys import SETTINGS, STORE, VIEWS, WRITER
from ledger.http.parameters import int_param, time_param
from ledger.http.problems import Unprocessable
from ledger.http.requests import context_from, read_object
from ledger.http.responses import json_response
from ledger.http.routing import Handler
from ledger.service.assessing import assess_change
from ledger.wire.gates import PolicyView, RequestStepBody, WindowList, build_detail, request_view

MAX_WINDOW_DAYS = 366


class _Place(msgspec.Struct, frozen=True):
    app: c.PolicyApp
    env: c.Name


def _place(request: web.Request) -> tuple[str, str]:
    """The app (or ``*``) and env of a policy's path."""
    info = request.match_info
    place = msgspec.convert({"app": info["app"], "env": info["env"]}, _Place)
    return place.app, place.env


async def get_policy(request: web.Request) -> web.Response:
    """The policy in force (its levels resolved) and what this level records; ?at= a time."""
    app, env = _place(request)
    at = time_param(request, "at")
    settings = request.app[SETTINGS]
    star, own = await asyncio.to_thread(policy_levels, request.app[STORE], app, env, at)
    level = star if app == "*" else own
    policy = resolve(default_policy(settings.rules(), env), star, own)
    view = PolicyView(
        app=app,
        env=env,
        policy=policy,
        recorded=level.document if level else None,
        level_version=level.version if level else 0,
        changed_by=level.changed_by if level else None,
        changed_at=level.changed_at if level else None,
        at=at,
        frozen=in_force(policy.freeze, at or datetime.now(UTC)),
    )
    return json_response(view)


async def policy_windows(request: web.Request) -> web.Response:
    """The freeze windows in force between ?from= (now) and ?to= (30 days on)."""
    app, env = _place(request)
    since = time_param(request, "from") or datetime.now(UTC)
    until = time_param(request, "to") or since + timedelta(days=30)
    if until <= since:
        raise Unprocessable("to", "must be after from")
    if until - since > timedelta(days=MAX_WINDOW_DAYS):
        raise Unprocessable("to", f"at most {MAX_WINDOW_DAYS} days after from")
    settings = request.app[SETTINGS]
    star, own = await asyncio.to_thread(policy_levels, request.app[STORE], app, env)
    policy = resolve(default_policy(settings.rules(), env), star, own)
    items = occurrences(policy.freeze, since, until)
    return json_response(WindowList(app=app, env=env, since=since, until=until, items=items))


async def get_build(request: web.Request) -> web.Response:
    """A build as recorded, with the evidence on it."""
    info = request.match_info
    cmd = msgspec.convert({"app": info["app"], "build_id": info["build_id"]}, _BuildPath)
    build = await asyncio.to_thread(build_of, request.app[STORE], cmd.app, cmd.build_id)
    if build is None:
        raise NotFound(f"build {cmd.build_id!r} of {cmd.app} is not recorded", field="build_id")
    return json_response(build_detail(build))


class _BuildPath(msgspec.Struct, frozen=True):
    app: c.Name
    build_id: c.BuildId


async def get_request(request: web.Request) -> web.Response:
    found = await _request(request)
    secret = await asyncio.to_thread(secret_keys, request.app[STORE], found.app, found.env)
    fingerprint = request.app[VIEWS].fingerprints.fingerprint
    return json_response(request_view(found, datetime.now(UTC), secret, fingerprint))


async def _request(request: web.Request) -> ChangeRequest:
    request_id = msgspec.convert(dict(request.match_info), _RequestPath).request_id
    found = await asyncio.to_thread(change_request, request.app[STORE], request_id)
    if found is None:
        raise NotFound(f"change request {request_id} does not exist", field="request_id")
    return found


class _RequestPath(msgspec.Struct, frozen=True):
    request_id: c.RequestId


def request_step(cls: type[c.ApproveRequest] | type[c.RejectRequest]) -> Handler:
    """Approve or reject a change request (the ``approve`` scope): 201, or 200 when nothing
    changed (a principal's second approval counts once)."""

    async def handler(request: web.Request) -> web.Response:
        body = await read_object(request)
        msgspec.convert(body, RequestStepBody)  # the body first: its faults before the lookup
        found = await _request(request)
        where = {"app": found.app, "env": found.env, "request_id": found.request_id}
        cmd = msgspec.convert(body | where, cls)
        result = await request.app[WRITER].run(cmd, context_from(request))
        return json_response(result, 201 if result.event_id else 200)

    return handler


async def assess(request: web.Request) -> web.Response:
    """Whether a deploy of ?build= (or a promotion ?from_env=, a ?action=rollback or config)
    may be made now by the caller, with every reason it may not."""
    app, env = _place(request)
    cmd = _assessed(request, app, env)
    settings = request.app[SETTINGS]
    ctx, now = context_from(request), datetime.now(UTC)
    assessment = await asyncio.to_thread(
        assess_change, request.app[STORE], settings.rules(), cmd, ctx, now
    )
    return json_response(assessment)


def _assessed(request: web.Request, app: str, env: str) -> GatedCommand:
    """The command an assessment is about, from its query."""
    query = request.query
    action = query.get("action") or ("promote" if query.get("from_env") else "deploy")
    fields: dict[str, object] = {"app": app, "env": env}
    if action == "deploy":
        return msgspec.convert(fields | {"build_id": query.get("build", "")}, c.Deploy)
    if action == "promote":
        return msgspec.convert(fields | {"from_env": query.get("from_env", "")}, c.Promote)
    if action == "rollback":
        target = int_param(request, "to_version")
        fields |= {"to_version": target} if target is not None else {}
        return msgspec.convert(fields | {"reason": "assessment"}, c.Rollback)
    if action == "config":
        return msgspec.convert(fields | {"set": {"_": "assessment"}}, c.ChangeConfig)
    raise Unprocessable("action", "must be deploy, promote, rollback or config")
