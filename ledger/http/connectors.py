"""Connector routes: register, list, delete (admin), their deliveries, and the receiver URL
each tool sends its webhooks to (authenticated by the tool's own scheme, not a bearer token)."""

from __future__ import annotations

import asyncio
import re

import msgspec
from aiohttp import web

from ledger.connectors.models import (
    CONNECTOR_NAME_PATTERN,
    ConnectorCreated,
    ConnectorList,
    DeliveryList,
    NewConnector,
    Outcome,
)
from ledger.connectors.receiving import Receiving, Unverified
from ledger.connectors.registry import ConnectorStore
from ledger.connectors.translation import Malformed
from ledger.domain.errors import Conflict, NotFound
from ledger.http.keys import LEDGER, PRINCIPAL, SETTINGS
from ledger.http.parameters import int_param
from ledger.http.problems import Unprocessable, problem
from ledger.http.requests import context_from, read_object
from ledger.http.responses import json_response

RECEIVER = "/v1/connectors/{name}/events"
_NAME = re.compile(CONNECTOR_NAME_PATTERN)
OUTCOMES = msgspec.json.Decoder(Outcome)


def receiver_path(path: str) -> bool:
    """Whether a path is a connector's receiver (its tool authenticates it, not a token)."""
    parts = path.split("/")
    return len(parts) == 5 and parts[:3] == ["", "v1", "connectors"] and parts[4] == "events"


def _admin(request: web.Request) -> ConnectorStore:
    principal = request[PRINCIPAL]
    if principal is not None and "admin" not in principal.scopes:
        raise web.HTTPForbidden(text=f"{principal.name} lacks the 'admin' scope for connectors")
    return request.app[LEDGER].connectors.store


def _receiving(request: web.Request) -> Receiving:
    return request.app[LEDGER].connectors


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not _NAME.fullmatch(name):
        raise Unprocessable("name", f"does not match {CONNECTOR_NAME_PATTERN}")
    return name


async def create_connector(request: web.Request) -> web.Response:
    """201 with the connector, its receiver URL and its secret (shown this once)."""
    store = _admin(request)
    new = msgspec.convert(await read_object(request), NewConnector)
    connector = await store.add(new, context_from(request).actor)
    if connector is None:
        raise Conflict(f"a connector named {new.name!r} exists", field="name")
    base = request.app[SETTINGS].base_url
    view = await store.view(connector, base)
    created = ConnectorCreated(**msgspec.structs.asdict(view), secret=connector.secret)
    return json_response(created, 201, Location=f"/v1/connectors/{connector.name}")


async def list_connectors(request: web.Request) -> web.Response:
    base = request.app[SETTINGS].base_url
    return json_response(ConnectorList(connectors=await _admin(request).views(base)))


async def delete_connector(request: web.Request) -> web.Response:
    store, name = _admin(request), _name(request)
    if not await store.delete(name):
        raise NotFound(f"no connector named {name!r}", field="name")
    return web.Response(status=204)


async def list_deliveries(request: web.Request) -> web.Response:
    """A connector's deliveries, newest first (?outcome=unmapped lists what it could not map)."""
    store, name = _admin(request), _name(request)
    if await store.get(name) is None:
        raise NotFound(f"no connector named {name!r}", field="name")
    outcome = request.query.get("outcome")
    if outcome is not None:
        try:
            OUTCOMES.decode(msgspec.json.encode(outcome))
        except msgspec.ValidationError:
            raise Unprocessable("outcome", "must be one of recorded, waiting, ignored, "
                                "unmapped, refused, rejected") from None  # fmt: skip
    limit = int_param(request, "limit", 100) or 100
    if limit > 1000:
        raise Unprocessable("limit", "at most 1000")
    return json_response(DeliveryList(items=await store.deliveries(name, outcome, limit)))


async def receive(request: web.Request) -> web.Response:
    """A tool's delivery: verified by its scheme, then recorded (or kept waiting, or skipped)."""
    name = _name(request)
    body = await _body(request)
    try:
        status, answer = await _receiving(request).receive(name, dict(request.headers), body)
    except Unverified as error:
        return problem(401, "Signature does not verify", str(error))
    except Malformed as error:
        return problem(400, "Malformed delivery", str(error))
    return web.Response(body=answer, status=status, content_type="application/json")


async def _body(request: web.Request) -> bytes:
    settings = request.app[SETTINGS]
    try:
        async with asyncio.timeout(settings.body_timeout_seconds):
            return await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="the delivery's body did not arrive in time") from None
