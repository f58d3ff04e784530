"""Authentication: bearer tokens when any exist, else open mode (loopback only)."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from ledger.domain.text import is_storable
from ledger.http.connectors import receiver_path
from ledger.http.keys import PRINCIPAL, SETTINGS, TOKENS
from ledger.http.routing import Handler

PUBLIC_PATHS = frozenset({"/", "/healthz", "/readyz", "/metrics", "/openapi.json"})
PUBLIC_PREFIX = "/dashboard/"  # the page's own scripts and styles: no data of the ledger
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ledger"'}


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Put the request's principal (None in open mode) under PRINCIPAL, or answer 401/403."""
    tokens = request.app[TOKENS]
    if (
        request.path in PUBLIC_PATHS
        or (request.method == "GET" and request.path.startswith(PUBLIC_PREFIX))
        or (request.method == "POST" and receiver_path(request.path))
    ):
        request[PRINCIPAL] = None
        return await handler(request)
    if not await tokens.any_active():
        if not is_loopback(request.app[SETTINGS].host):  # the last token was revoked meanwhile
            raise web.HTTPUnauthorized(
                text="no active token: this server listens beyond loopback, so it never runs "
                "open; create a token with `ledger token create`",
                headers=CHALLENGE,
            )
        request[PRINCIPAL] = None
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not is_storable(token):
        raise web.HTTPUnauthorized(text="send Authorization: Bearer <token>", headers=CHALLENGE)
    principal = await tokens.authenticate(token.strip())
    if principal is None:
        raise web.HTTPUnauthorized(text="the token is unknown or revoked", headers=CHALLENGE)
    if request.method in ("GET", "HEAD") and not _may_read(principal.scopes):
        raise web.HTTPForbidden(text=f"{principal.name} lacks the 'read' scope")
    request[PRINCIPAL] = principal
    return await handler(request)


def _may_read(scopes: frozenset[str]) -> bool:
    return "read" in scopes or "admin" in scopes


def may_read_secrets(request: web.Request) -> bool:
    """Plaintext secrets only for principals with secrets:read (or admin); never in open mode."""
    principal = request[PRINCIPAL]
    return principal is not None and bool({"secrets:read", "admin"} & principal.scopes)


def is_loopback(host: str) -> bool:
    """Whether the listen address is loopback only (where open mode is allowed)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
