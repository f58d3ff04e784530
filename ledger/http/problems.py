"""RFC 9457 problem details for every error, and the middleware that produces them."""

from __future__ import annotations

import logging
import re

import msgspec
from aiohttp import web
from eventsourcing.persistence import InterfaceError, OperationalError

from ledger.domain.errors import DomainError
from ledger.domain.text import explained
from ledger.http.routing import Handler
from ledger.sql.database import UNAVAILABLE
from ledger.wire.shapes import FieldError, Problem, domain_problem, problem_type

log = logging.getLogger("ledger.http")
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, *UNAVAILABLE)
"""Failures that mean "the store is away for now": 503 with Retry-After."""


class Unprocessable(Exception):
    """The request was well-formed but a field is invalid."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> web.Response:
    body = Problem(
        type=problem_type(title), title=title, status=status, detail=detail, errors=errors or []
    )
    payload = msgspec.structs.asdict(body) | extra
    if status == 503:
        headers = {"Retry-After": "1"} | (headers or {})
    return web.Response(
        body=msgspec.json.encode({k: v for k, v in payload.items() if v != [] and v is not None}),
        status=status,
        content_type="application/problem+json",
        headers=headers,
    )


def field_of(error: msgspec.ValidationError) -> str:
    """The field a msgspec validation error names, as a dotted path."""
    message = str(error)
    named = re.search(r"(?:missing required|unknown) field `([^`]+)`", message)
    at = re.search(r"(?:at|in) `\$\.?([^`]*)`", message)
    parts = [p for p in ((at.group(1) if at else ""), named.group(1) if named else "") if p]
    return ".".join(parts) or "body"


def _domain_problem(error: DomainError) -> web.Response:
    return problem_response(domain_problem(error))


def problem_response(body: Problem, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body),
        status=body.status,
        content_type="application/problem+json",
        headers=headers,
    )


_KEPT_HEADERS = ("WWW-Authenticate", "Retry-After", "Allow")
"""Headers of an aiohttp error that tell the client what to do next (405: the methods taken)."""


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into problem+json with the right status; never leak a traceback."""
    try:
        return await handler(request)
    except DomainError as error:
        return _domain_problem(error)
    except Unprocessable as error:
        fe = [FieldError(field=error.field, message=error.message)]
        return problem(422, "Invalid field", f"{error.field}: {error.message}", errors=fe)
    except msgspec.ValidationError as error:
        message = explained(error)
        fe = [FieldError(field=field_of(error), message=message)]
        return problem(422, "Invalid field", message, errors=fe)
    except RecursionError:
        return problem(400, "Malformed JSON", "the body is nested too deeply")
    except msgspec.DecodeError as error:
        return problem(400, "Malformed JSON", f"the body is not valid JSON: {error}")
    except STORE_UNAVAILABLE as error:
        log.warning("store unavailable", extra={"error": str(error)})
        return problem(503, "Store unavailable", "the event store cannot be reached; retry soon")
    except web.HTTPException as error:
        if error.status < 400:
            raise
        kept = {k: v for k, v in error.headers.items() if k in _KEPT_HEADERS}
        return problem(error.status, error.reason, error.text or error.reason, headers=kept)
    except Exception:
        log.exception("request failed", extra={"path": request.path})
        return problem(500, "Internal error", "the ledger failed; see its logs")
