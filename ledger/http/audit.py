"""Audit handlers: signed checkpoints, inclusion and consistency proofs, and verification.

``GET /v1/verify`` answers 200 whether or not tampering was found: the request succeeded, and
the report's ``ok`` says what it found (``problems`` names each event, stream and version).
A checkpoint is JSON, or with ``Accept: text/plain`` its C2SP signed note as text, the
witnesses' cosignature lines after the ledger's signature (406 for a v1 checkpoint, made
before checkpoints were notes)."""

from __future__ import annotations

import asyncio
from uuid import UUID

from aiohttp import hdrs, web

from ledger.audit.cosigning import WitnessKey
from ledger.audit.messages import Checkpoint
from ledger.audit.proofs import AuditLog
from ledger.audit.verifier import verify_log
from ledger.domain.errors import NotFound
from ledger.domain.names import is_count
from ledger.http.keys import LEDGER, SETTINGS, STORE
from ledger.http.parameters import int_param
from ledger.http.problems import Unprocessable, problem
from ledger.http.responses import json_response

NOTE_TYPE = "text/plain"


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
    return _checkpoint_response(request, checkpoint)


async def checkpoint(request: web.Request) -> web.Response:
    found = await _audit(request).checkpoint(_size(request, "tree_size"))
    return _checkpoint_response(request, found)


def _checkpoint_response(request: web.Request, checkpoint: Checkpoint) -> web.Response:
    """The checkpoint as JSON, or as its note when the client prefers text/plain."""
    if not prefers(request.headers.get(hdrs.ACCEPT, ""), NOTE_TYPE, over="application/json"):
        return json_response(checkpoint)
    if checkpoint.note is None:
        detail = (
            f"checkpoint {checkpoint.tree_size} was made before checkpoints were signed notes "
            "(a v1 checkpoint): ask for it as JSON"
        )
        return problem(406, "Not Acceptable", detail)
    cosigned = checkpoint.note + "".join(c.line for c in checkpoint.cosignatures)
    return web.Response(text=cosigned, content_type=NOTE_TYPE, charset="utf-8")


def prefers(accept: str, wanted: str, *, over: str) -> bool:
    """Whether an Accept header weighs the media type ``wanted`` more than ``over`` (a tie,
    as with no header or ``*/*``, goes to ``over``)."""
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *parameters = (item.strip() for item in part.split(";"))
        quality = next((p[2:] for p in parameters if p.lower().startswith("q=")), "1")
        try:
            weights[media.lower()] = float(quality)
        except ValueError:
            continue

    def weight(media: str) -> float:
        family = media.split("/")[0] + "/*"
        return weights.get(media, weights.get(family, weights.get("*/*", 0.0)))

    return weight(wanted) > weight(over)


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
    witnesses = [WitnessKey.parse(key) for _, key in request.app[SETTINGS].witnesses]
    report = await asyncio.to_thread(
        verify_log, request.app[STORE], public_key, witnesses=witnesses
    )
    return json_response(report)
