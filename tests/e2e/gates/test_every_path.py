"""The same policy on every path that creates a release: the HTTP routes (deploy, promote,
config, rollback), an item of a batch, a CDEvent over HTTP and over NATS. A freeze refuses
(423), missing evidence refuses (409), required approvals make a pending request (202), and
each refusal is recorded with the gate and the channel it came through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ...servers import NatsServer
from ..conftest import LedgerServer, running_on
from .channels import Route, attempt, prepare
from .places import Place

pytestmark = pytest.mark.e2e

ALWAYS = {"name": "always", "cron": "* * * * *", "duration": "1h", "reason": "code freeze"}
"""A window that is always in force: it opens every minute for an hour."""
BUILDS = [
    Route("deploy", "http"),
    Route("promote", "http"),
    Route("deploy", "batch"),
    Route("promote", "batch"),
    Route("deploy", "cdevents"),
    Route("deploy", "nats"),
]
CONFIG = [
    Route("config", "http"),
    Route("config", "batch"),
    Route("config", "cdevents"),
    Route("config", "nats"),
]
ROLLBACKS = [
    Route("rollback", "http"),
    Route("rollback", "batch"),
    Route("rollback", "cdevents"),
    Route("rollback", "nats"),
]
VIA = {"http": "http", "batch": "http", "cdevents": "cdevents", "nats": "cdevents"}


def routes(*groups: list[Route]) -> pytest.MarkDecorator:
    every = [route for group in groups for route in group]
    return pytest.mark.parametrize("route", every, ids=[r.id for r in every])


@pytest.fixture(scope="module")
def nats_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A NATS server of the module's own: only its ledger answers CDEvents there."""
    server = NatsServer(tmp_path_factory.mktemp(f"nats-{backend}") / "store")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_server(
    backend: str,
    nats_server: NatsServer,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LedgerServer]:
    """The module's ledger, taking CDEvents over NATS too."""
    workdir: Path = tmp_path_factory.mktemp(f"ledger-{backend}")
    with running_on(backend, request, workdir, LEDGER_NATS_URL=nats_server.url) as server:
        yield server


@pytest.fixture
def ingest(nats_server: NatsServer) -> str:
    """Where CDEvents are sent over NATS."""
    return nats_server.url


@routes(BUILDS, CONFIG)
def test_a_freeze_refuses_the_change_on_every_path(place: Place, route: Route, ingest: str) -> None:
    prepare(place, route)
    before = place.version()
    place.policy(freeze=[ALWAYS])

    problem = attempt(place, route, ingest).refused(423, "freeze")

    assert problem["window"] == "always" and problem["ends_at"], problem
    assert "code freeze" in problem["detail"], problem
    assert place.version() == before
    denied = place.denied()
    assert (denied["data"]["gate"], denied["via"]) == ("freeze", VIA[route.channel]), denied


@routes(ROLLBACKS)
def test_a_rollback_passes_a_freeze_on_every_path(place: Place, route: Route, ingest: str) -> None:
    prepare(place, route)
    place.policy(freeze=[ALWAYS])

    release = attempt(place, route, ingest).released()

    assert (release["version"], release["rollback_of"]) == (3, 1), release


@routes(BUILDS)
def test_missing_evidence_refuses_the_build_on_every_path(
    place: Place, route: Route, ingest: str
) -> None:
    prepare(place, route)
    before = place.version()
    place.policy(required_evidence=["tests", "scan"])

    problem = attempt(place, route, ingest).refused(409, "evidence")

    assert problem["missing"] == ["tests", "scan"], problem
    assert place.version() == before
    denied = place.denied()
    assert (denied["data"]["gate"], denied["via"]) == ("evidence", VIA[route.channel]), denied


@routes(BUILDS, CONFIG, ROLLBACKS)
def test_required_approvals_turn_the_change_into_a_pending_request_on_every_path(
    place: Place, route: Route, ingest: str
) -> None:
    prepare(place, route)
    before = place.version()
    place.policy(approvals={"required": 2})

    request = attempt(place, route, ingest).waiting()

    assert (request["app"], request["env"]) == (place.app, place.env), request
    assert (request["action"], request["required"]) == (route.action, 2), request
    assert place.request(request["id"])["status"] == "pending"
    assert place.version() == before
