"""Open mode (no tokens): for local use. The actor comes from X-Ledger-Actor and is recorded as
unauthenticated; no scope or protected-environment rule applies. The first token ends it."""

from __future__ import annotations

from typing import Any

from ledger.http.keys import STORE

Ledger = Any  # the ``ledger`` fixture of conftest.py
PROD = "/v1/apps/shop/envs/prod"


async def given_shop(ledger: Ledger) -> Any:
    someone = ledger.actor("setup")
    await someone.write("POST", "/v1/apps", {"name": "shop"})
    body = ledger.build_body("b-manual", pipeline=False)
    await someone.write("POST", "/v1/apps/shop/builds", body)
    return someone


def stored_events(ledger: Ledger) -> list[Any]:
    """The events as stored, decoded (how `ledger verify` or an auditor would read them)."""
    store = ledger.client.app[STORE]
    notifications = store.recorder.select_notifications(start=1, limit=1000)
    return [store.mapper.to_domain_event(n) for n in notifications]


async def test_writes_take_the_actor_from_the_header(ledger: Ledger) -> None:
    await given_shop(ledger)
    alice = await ledger.actor("alice").write("PUT", f"{PROD}/flags/beta", {"enabled": True})
    bot = await ledger.actor("ci-bot", "ci").write("PUT", f"{PROD}/flags/beta", {"enabled": False})
    nobody = await ledger.anonymous.write("PUT", f"{PROD}/flags/beta", {"enabled": True})

    items = {i["position"]: i for i in await ledger.history()}
    assert (items[alice["position"]]["actor"], items[alice["position"]]["actor_kind"]) == (
        "alice",
        "human",
    )
    assert (items[bot["position"]]["actor"], items[bot["position"]]["actor_kind"]) == (
        "ci-bot",
        "ci",
    )
    assert items[nobody["position"]]["actor"] == "anonymous"


async def test_open_mode_events_are_stored_as_unauthenticated(ledger: Ledger) -> None:
    await given_shop(ledger)
    await ledger.actor("alice").write("PUT", f"{PROD}/flags/beta", {"enabled": True})
    root = await ledger.secure()
    await root.write("PUT", f"{PROD}/flags/beta", {"enabled": False})

    marks = [(e.actor, e.authenticated) for e in stored_events(ledger)]
    assert marks[-2:] == [("alice", False), ("root", True)]
    assert all(not authenticated for _, authenticated in marks[:-1])


async def test_no_policy_applies_in_open_mode(ledger: Ledger) -> None:
    """Local use only: a person may deploy a build without CI provenance to prod."""
    await given_shop(ledger)
    done = await ledger.actor("alice").write("POST", f"{PROD}/deploys", {"build_id": "b-manual"})
    assert done["release"]["actor"] == "alice"
    assert await ledger.history(kind="denied") == []


async def test_a_malformed_actor_header_is_422_and_appends_nothing(ledger: Ledger) -> None:
    await given_shop(ledger)
    head = await ledger.head()
    for actor in ("x" * 129, "tab\there", "\u00e5lice"):
        answer = await ledger.actor(actor).request("PUT", f"{PROD}/flags/beta", {"enabled": True})
        assert any(e["field"] == "X-Ledger-Actor" for e in answer.problem(422)["errors"]), answer
    await ledger.assert_nothing_appended(head)


async def test_the_first_token_ends_open_mode(ledger: Ledger) -> None:
    await given_shop(ledger)
    await ledger.secure()
    head = await ledger.head()
    answer = await ledger.actor("alice").request("PUT", f"{PROD}/flags/beta", {"enabled": True})
    answer.problem(401)
    assert (await ledger.anonymous.get("/v1/apps")).status == 401
    await ledger.assert_nothing_appended(head)
