"""Audit handlers: signed checkpoints, inclusion and consistency proofs, and verification.

``GET /v1/verify`` answers 200 whether or not tampering was found: the request succeeded, and
the report's ``ok`` says what it found (``problems`` names each event, stream and version)."""

from __future__ import annotations

import asyncio
from uuid import UUID

from aiohttp import web

from ledger.audit.proofs import AuditLog
from ledger.audit.verifier import verify_log
from ledger.domain.errors import NotFound
from ledger.domain.names import is_count
from ledger.http.keys import LEDGER, STORE
from ledger.http.parameters import int_param
from ledger.http.problems import Unprocessable
from ledger.http.responses import json_response


def _audit(request: web.Request) -> AuditLog:
    return request.app[LEDGER].audit


def _size(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not is_count(raw):
        raise Unprocessable(name, f"{raw!r} is not a tree size")
    return int(raw)


async def latest_checkpoint(request: web.Request) -> web.Response:
    """The newest signed checkpoint; 404 before the first."""
    checkpoint = await _audit(request).latest()
    if checkpoint is None:
        raise NotFound("there is no checkpoint yet")
    return json_response(checkpoint)


async def checkpoint(request: web.Request) -> web.Response:
    return json_response(await _audit(request).checkpoint(_size(request, "tree_size")))


async def event_proof(request: web.Request) -> web.Response:
    """The inclusion proof of an event in a checkpoint's tree (?tree_size=, default latest)."""
    raw = request.match_info["event_id"]
    try:
        event_id = UUID(raw)
    except ValueError:
        raise Unprocessable("event_id", f"{raw!r} is not a UUID") from None
    tree_size = int_param(request, "tree_size")
    return json_response(await _audit(request).inclusion(event_id, tree_size))


async def consistency(request: web.Request) -> web.Response:
    first, second = _size(request, "first"), _size(request, "second")
    return json_response(await _audit(request).consistency(first, second))


async def verify(request: web.Request) -> web.Response:
    """Re-read the whole log and report; 200 with ``ok: false`` and the problems on tampering."""
    signer = _audit(request).signer
    public_key = None if signer is None else signer.public_key
    report = await asyncio.to_thread(verify_log, request.app[STORE], public_key)
    return json_response(report)
