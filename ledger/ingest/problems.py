"""Why an event was not ingested, and the RFC 9457 problem that says so on any channel."""

from __future__ import annotations

import logging

from eventsourcing.persistence import InterfaceError, OperationalError

from ledger.domain.errors import DomainError
from ledger.wire.shapes import FieldError, Problem, domain_problem, problem_type

log = logging.getLogger("ledger.ingest")
# The same problem types and statuses as the HTTP API (ledger/http/problems.py).


class IngestError(Exception):
    """An event the ledger does not take; nothing was appended."""

    status = 400
    title = "Malformed event"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class Malformed(IngestError):
    """Not a CloudEvent carrying a CDEvent: bad JSON, missing or mistyped attributes."""


class UnsupportedMedia(IngestError):
    status = 415
    title = "Unsupported media type"


class UnknownType(IngestError):
    """A well-formed event of a type the ledger does not map onto its commands."""

    status = 422
    title = "Unsupported event type"


class Unmappable(IngestError):
    """A field the mapping needs is missing or does not fit the ledger (e.g. an app name)."""

    status = 422
    title = "Invalid field"


def problem_of(error: Exception) -> Problem:
    """The problem details of any failure of an ingest (unexpected ones are logged)."""
    if isinstance(error, IngestError):
        return _problem(error.status, error.title, error.detail, error.field)
    if isinstance(error, DomainError):
        return domain_problem(error)
    if isinstance(error, OperationalError | InterfaceError):
        detail = "the event store cannot be reached; retry soon"
        return _problem(503, "Store unavailable", detail, None)
    log.error("ingest failed", exc_info=error)
    return _problem(500, "Internal error", "the ledger failed; see its logs", None)


def _problem(status: int, title: str, detail: str, field: str | None) -> Problem:
    errors = [FieldError(field=field, message=detail)] if field else []
    return Problem(
        type=problem_type(title), title=title, status=status, detail=detail, errors=errors
    )
