"""The log's side of c2sp.org/tlog-witness: one add-checkpoint request, and what the
witness's answer means."""

from __future__ import annotations

from typing import NamedTuple

import aiohttp
import msgspec

from ledger.domain.notes import NoteSignature
from ledger.domain.witness_protocol import (
    AddCheckpoint,
    add_checkpoint_body,
    parse_cosignature_lines,
    parse_size_body,
)


class Cosigned(NamedTuple):
    """200: the signature lines the witness answered (cosignatures, to be verified)."""

    signatures: list[NoteSignature]


class Conflict(NamedTuple):
    """409: the witness holds a tree of this size (the old size sent is not its own, or it
    cosigned another root at this size)."""

    size: int


class Failed(NamedTuple):
    """Anything else: the witness refused, or could not be reached, and why."""

    reason: str


Answer = Cosigned | Conflict | Failed


async def add_checkpoint(
    session: aiohttp.ClientSession, url: str, request: AddCheckpoint, timeout: float
) -> Answer:
    """POST the request to the witness's ``<url>/add-checkpoint``; what it answered."""
    try:
        async with session.post(
            f"{url}/add-checkpoint",
            data=add_checkpoint_body(request).encode(),
            headers={"Content-Type": "text/plain; charset=utf-8"},
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.read()
    except TimeoutError:
        return Failed(f"no answer within {timeout:g}s")
    except aiohttp.ClientError as error:
        return Failed(f"{type(error).__name__}: {error}")
    return _answer(response.status, response.content_type, body)


def _answer(status: int, content_type: str, body: bytes) -> Answer:
    text = body.decode("utf-8", errors="replace")
    try:
        if status == 200:
            return Cosigned(parse_cosignature_lines(text))
        if status == 409:
            return Conflict(parse_size_body(text))
    except ValueError as error:
        return Failed(f"HTTP {status} with a body that is not the protocol's: {error}")
    return Failed(f"HTTP {status}: {_detail(content_type, body) or text.strip()[:300]}")


def _detail(content_type: str, body: bytes) -> str | None:
    """The ``detail`` of an RFC 9457 problem, when the answer is one."""
    if content_type != "application/problem+json":
        return None
    try:
        problem = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    detail = problem.get("detail") if isinstance(problem, dict) else None
    return str(detail) if detail else None
