"""Webhook routes: create, list, delete and resume (the admin scope; open mode allows all)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from ledger.domain.errors import NotFound
from ledger.domain.text import RULE, is_storable
from ledger.http.keys import LEDGER, PRINCIPAL, STORE
from ledger.http.problems import Unprocessable
from ledger.http.requests import context_from, read_object
from ledger.http.responses import json_response
from ledger.webhooks.models import NewWebhook, WebhookList
from ledger.webhooks.registry import WebhookStore


def _admin(request: web.Request) -> WebhookStore:
    """The webhook store, for admins only: webhooks send the whole feed anywhere."""
    principal = request[PRINCIPAL]
    if principal is not None and "admin" not in principal.scopes:
        raise web.HTTPForbidden(text=f"{principal.name} lacks the 'admin' scope for webhooks")
    return request.app[LEDGER].webhooks


def _wake_deliverer(request: web.Request) -> None:
    deliverer = request.app[LEDGER].deliverer
    if deliverer is not None:
        deliverer.wake()


async def create_webhook(request: web.Request) -> web.Response:
    """201 with the webhook and its secret (shown this once); it gets the changes from now."""
    hooks = _admin(request)
    new = msgspec.convert(await read_object(request), NewWebhook)
    _check_url(new.url)
    position = await asyncio.to_thread(request.app[STORE].head)  # the changes from now on
    hook = await hooks.add(new, position, context_from(request).actor)
    _wake_deliverer(request)
    return json_response(hook.created(), 201, Location=f"/v1/webhooks/{hook.id}")


async def list_webhooks(request: web.Request) -> web.Response:
    hooks = await _admin(request).all()
    return json_response(WebhookList(webhooks=[h.view() for h in hooks]))


def _hook_id(request: web.Request) -> str:
    """The webhook id of the path; one that cannot be stored names no webhook (422)."""
    hook_id = request.match_info["id"]
    if not is_storable(hook_id):
        raise Unprocessable("id", RULE)
    return hook_id


async def delete_webhook(request: web.Request) -> web.Response:
    hooks, hook_id = _admin(request), _hook_id(request)
    if not await hooks.delete(hook_id):
        raise NotFound(f"webhook {hook_id!r} does not exist")
    _wake_deliverer(request)
    return web.Response(status=204)


async def resume_webhook(request: web.Request) -> web.Response:
    """Deliver again from where the webhook stopped (a paused one retries the item it was at)."""
    hooks, hook_id = _admin(request), _hook_id(request)
    if not await hooks.resume(hook_id):
        raise NotFound(f"webhook {hook_id!r} does not exist")
    _wake_deliverer(request)
    hook = await hooks.get(hook_id)
    if hook is None:
        raise NotFound(f"webhook {hook_id!r} does not exist")
    return json_response(hook.view())


def _check_url(url: str) -> None:
    """An http(s) URL with a host and no control characters or spaces."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as error:
        raise Unprocessable("url", f"not a URL: {error}") from None
    if not host or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise Unprocessable(
            "url", "an http(s) URL with a host, without spaces or control characters"
        )
