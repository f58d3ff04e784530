"""A broker delivers at least once and fans out every event: an identical re-delivery of any
accepted CloudEvent gets its first answer, in any mode, on each backend; a CDEvent of a type the
ledger does not record is acknowledged (202) and appends nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ... import cdevents
from ...cdevents import ACCEPTED, UNMAPPED

MODES = ("structured", "binary", "plain")


def _backends() -> list[Any]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]


async def _ledger(backend: str, start: Any, request: pytest.FixtureRequest) -> Any:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    return await start(url)


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ACCEPTED)
async def test_an_identical_redelivery_of_each_accepted_type_gets_its_first_answer(
    name: str, mode: str, backend: str, start: Any, request: pytest.FixtureRequest
) -> None:
    ledger = await _ledger(backend, start, request)
    for earlier in ACCEPTED[: ACCEPTED.index(name)]:  # what the event follows in a delivery
        assert (await ledger.send(cdevents.fixture(earlier), mode)).status in (201, 202)
    first = await ledger.send(cdevents.fixture(name), mode)
    assert first.status in (201, 202), first
    head = await ledger.head()

    again = await ledger.send(cdevents.fixture(name), mode)

    assert again.status == first.status, again
    assert {**again.json, "replayed": None} == {**first.json, "replayed": None}
    if first.status == 201:
        assert again.headers["idempotent-replayed"] == "true"
    assert await ledger.head() == head


@pytest.mark.parametrize("backend", _backends())
async def test_a_rollback_redelivered_after_the_environment_moved_on_gets_its_first_answer(
    backend: str, start: Any, request: pytest.FixtureRequest
) -> None:
    ledger = await _ledger(backend, start, request)
    for name in ("service_deployed", "service_upgraded"):
        assert (await ledger.send(cdevents.fixture(name))).status == 201
    rollback = cdevents.fixture("service_rolledback")
    first = await ledger.send(rollback)
    assert first.status == 201 and first.json["release"]["rollback_of"] == 1, first
    for n, name in enumerate(("service_upgraded", "service_deployed", "service_upgraded")):
        later = cdevents.fixture(name)  # new deliveries: the artifact runs again, then not
        later["context"]["id"] = f"later-{n}"
        assert (await ledger.send(later)).status == 201
    head = await ledger.head()

    again = await ledger.send(rollback, "binary")

    assert again.status == 201, again
    assert {**again.json, "replayed": None} == {**first.json, "replayed": None}
    assert await ledger.head() == head


async def test_a_redelivery_with_other_content_is_409_in_the_senders_terms(ledger: Any) -> None:
    first = cdevents.fixture("service_deployed")
    assert (await ledger.send(first)).status == 201
    other = cdevents.fixture("service_deployed")
    other["subject"]["content"]["environment"]["id"] = "production"

    problem = (await ledger.send(other)).problem(409)

    context = first["context"]
    assert context["id"] in problem["detail"] and context["source"] in problem["detail"]
    assert "cloudevent:" not in problem["detail"] and "key:" not in problem["detail"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", UNMAPPED)
async def test_a_conformance_example_of_a_type_not_recorded_is_acknowledged(
    name: str, mode: str, ledger: Any
) -> None:
    event = cdevents.spec_example(name)
    answer = await ledger.send(event, mode)
    assert answer.status == 202, answer
    assert answer.json["position"] == 0
    assert event["context"]["type"] in answer.json["note"]
    assert await ledger.head() == 0


@pytest.mark.postgres
async def test_a_type_not_recorded_is_acknowledged_on_postgres(
    start: Any, request: pytest.FixtureRequest
) -> None:
    ledger = await _ledger("postgres", start, request)
    answer = await ledger.send(cdevents.spec_example("testcaserun_started"), "structured")
    assert answer.status == 202, answer
    assert await ledger.head() == 0


def test_the_examples_cover_every_type_of_the_specification() -> None:
    assert len(UNMAPPED) == 45 - len(ACCEPTED)  # v0.5.1 defines 45 types
