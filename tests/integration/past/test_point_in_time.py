"""GET /v1/apps/{app}/envs/{env}?at= | ?release= | ?position=: the state as it was then."""

from __future__ import annotations

from typing import Any

from .conftest import ENV, T0, ProdStory, hours


async def test_at_a_time_the_state_is_the_one_after_the_last_event_until_then(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    state = await reader.ok(ENV, at=(T0 + hours(2.5)).isoformat())
    assert (state["release"]["version"], state["release"]["build_id"]) == (2, "b1")
    assert state["config"]["A"] == "1" and state["flags"] == {}
    assert state["schema_version"] is None
    assert state["position"] == prod_story.pos["v2"]

    later = await reader.ok(ENV, at=(T0 + hours(5.5)).isoformat())
    assert (later["release"]["version"], later["config"]["A"]) == (3, "2")
    assert later["flags"] == {"beta": {"enabled": True, "rollout_percent": 25}}
    assert later["schema_version"] == "2"


async def test_at_is_inclusive_and_accepts_any_offset(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    exactly = await reader.ok(ENV, at="2025-03-01T13:00:00+02:00")  # T0 + 2h, the deploy of v2
    assert exactly["release"]["version"] == 2


async def test_a_release_shows_the_state_right_after_it_was_made(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    canary = await reader.ok(ENV, release=4)
    assert canary["release"]["version"] == 4
    assert (canary["release"]["status"], canary["release"]["rollout_percent"]) == (
        "rolling_out",
        10,
    )
    assert canary["position"] == prod_story.pos["v4"]
    rollback = await reader.ok(ENV, release=5)
    assert (rollback["release"]["rollback_of"], rollback["config"]["A"]) == (3, "2")
    now = await reader.ok(ENV)
    assert rollback["release"] == now["release"] and rollback["config"] == now["config"]


async def test_a_position_shows_the_state_when_the_log_ended_there(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    state = await reader.ok(ENV, position=prod_story.pos["flag"])
    assert state["release"]["version"] == 2 and "beta" in state["flags"]
    assert state["position"] == prod_story.pos["flag"]
    # the next position belongs to no event of prod (CI's run record of v2): v2 it is
    state = await reader.ok(ENV, position=prod_story.pos["v2"] + 1)
    assert (state["release"]["version"], state["flags"]) == (2, {})
    assert state["position"] == prod_story.pos["v2"]


async def test_secrets_stay_fingerprints_except_for_secrets_read(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    now = await reader.ok(ENV)
    auditor = await reader.as_principal("auditor", "human", "read")
    keeper = await reader.as_principal("keeper", "human", "read,secrets:read")
    shown = await auditor.ok(ENV, release=3)
    assert shown["config"]["DB_PASSWORD"] == now["config"]["DB_PASSWORD"] != "hunter2-secret"
    assert shown["config"]["LICENSE"].startswith("<secret:")
    revealed = await keeper.ok(ENV, release=3)
    assert (revealed["config"]["DB_PASSWORD"], revealed["config"]["LICENSE"]) == (
        "hunter2-secret",
        "lic-1",
    )


async def test_a_key_declared_secret_later_is_hidden_in_the_past_too(
    read: Any, story: Any, prod_story: ProdStory
) -> None:
    from .conftest import config

    story.at(T0 + hours(10), config({"API_URL": "https://internal-a"}))
    story.at(T0 + hours(11), config({"API_URL": "https://internal-b"}, ["API_URL"]))
    reader = await read()
    then = await reader.ok(ENV, at=(T0 + hours(10.5)).isoformat())
    assert then["config"]["API_URL"].startswith("<secret:")


async def test_before_the_first_event_is_404_saying_when_that_was(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    problem = await reader.problem(404, ENV, at=(T0 - hours(1)).isoformat())
    assert "had no events at 2025-03-01T08:00:00+00:00" in problem["detail"]
    assert "first event was recorded at 2025-03-01T10:00:00+00:00" in problem["detail"]
    problem = await reader.problem(404, ENV, position=prod_story.pos["app"])
    assert f"its first is at {prod_story.pos['v1']}" in problem["detail"]
    await reader.problem(404, ENV, release=9)
    await reader.problem(404, "/v1/apps/shop/envs/nowhere", at=T0.isoformat())


async def test_bad_points_in_time_are_422(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    both = await reader.problem(422, ENV, at=T0.isoformat(), release=2)
    assert both["errors"][0]["field"] == "release"
    for query in ({"at": "yesterday"}, {"release": "0"}, {"position": "x"}, {"release": "-1"}):
        problem = await reader.problem(422, ENV, **query)
        assert problem["errors"][0]["field"] == next(iter(query))
