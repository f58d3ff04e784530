"""Over NATS a refusal is answered with the same problem (status, title) as over HTTP."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import OperationalError

from ledger.domain.errors import Conflict, DomainError, Invalid, NotFound, RollbackBlocked
from ledger.domain.policy import Forbidden
from ledger.ingest.problems import Malformed, UnknownType, Unmappable, problem_of


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Malformed("not JSON"), 400),
        (UnknownType("dev.cdevents.x.y.0.1.0", field="type"), 422),
        (Unmappable("bad name", field="subject.id"), 422),
        (NotFound("no such build"), 404),
        (Forbidden("lacks the 'deploy' scope"), 403),
        (Conflict("rolling out"), 409),
        (Invalid("bad steps", field="steps"), 422),
        (DomainError("refused"), 400),
        (OperationalError("database down"), 503),
    ],
)
def test_each_failure_has_the_status_http_gives_it(error: Exception, status: int) -> None:
    problem = problem_of(error)
    assert problem.status == status
    assert problem.type.startswith("https://release-ledger.dev/problems/")
    assert problem.title and problem.detail


def test_a_field_error_is_listed() -> None:
    problem = problem_of(Unmappable("bad name", field="subject.content.environment.id"))
    assert [e.field for e in problem.errors] == ["subject.content.environment.id"]


def test_a_blocked_rollback_names_its_migrations() -> None:
    problem = problem_of(RollbackBlocked("irreversible migrations", ["m7"]))
    assert (problem.status, problem.migrations) == (409, ["m7"])


def test_an_unexpected_failure_is_a_500_that_says_nothing_of_its_cause() -> None:
    problem = problem_of(RuntimeError("secret internals"))
    assert problem.status == 500 and "secret" not in problem.detail
