"""A change request waits LEDGER_REQUEST_TTL for its approvals, no longer: past it, it reads as
expired, an approval is refused, and the expiry is recorded once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from ..conftest import LedgerServer, running_on
from .places import ALICE, BOB, Place, requested

pytestmark = pytest.mark.e2e

TTL = "1"  # second
EXPIRED_WITHIN = 15.0  # seconds, polled


@pytest.fixture(scope="module")
def shared_server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LedgerServer]:
    """The module's ledger, whose change requests expire a second after they are made."""
    workdir = tmp_path_factory.mktemp(f"ledger-{backend}")
    with running_on(backend, request, workdir, LEDGER_REQUEST_TTL=TTL) as server:
        yield server


def expired(place: Place, request: str) -> dict[str, Any]:
    """The request once it reads as expired (polled)."""
    deadline = time.monotonic() + EXPIRED_WITHIN
    while (view := place.request(request))["status"] == "pending":
        assert time.monotonic() < deadline, f"still pending: {view}"
        time.sleep(0.1)
    return view


def test_an_unapproved_request_expires_and_can_no_longer_be_approved(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 1})
    request = requested(place.deploy(build, ALICE))

    view = expired(place, request)
    assert view["status"] == "expired" and view["waiting_for"] == {"approvals": 0}, view

    late = place.approve(request, BOB).problem(409)
    assert "expired" in late["detail"], late
    place.approve(request, BOB).problem(409)
    assert place.request(request)["status"] == "expired"
    assert place.version() == 0


def test_the_history_shows_the_expiry_once(place: Place) -> None:
    build = place.build()
    place.policy(approvals={"required": 1})
    request = requested(place.deploy(build, ALICE))
    expired(place, request)
    place.approve(request, BOB).problem(409)
    place.approve(request, BOB).problem(409)

    expiries = [i for i in place.history(kind="request") if "expired" in i["summary"]]

    assert len(expiries) == 1, expiries
    assert expiries[0]["data"]["request_id"] == request
    assert not [i for i in place.history(kind="request") if "approved request" in i["summary"]]
