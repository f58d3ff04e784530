"""GET /v1/whoami: who the ledger takes the caller for, so the dashboard offers approvals only
to those who may approve."""

from __future__ import annotations

from typing import Any

Ledger = Any  # the ``ledger`` fixture of conftest.py


async def test_open_mode_names_the_header_actor_and_every_scope_applies(ledger: Ledger) -> None:
    assert await ledger.actor("alice").read("/v1/whoami") == {
        "actor": "alice",
        "actor_kind": "human",
        "authenticated": False,
        "scopes": None,
    }
    assert (await ledger.anonymous.read("/v1/whoami"))["actor"] == "anonymous"


async def test_with_tokens_the_principal_and_its_scopes(ledger: Ledger) -> None:
    await ledger.secure()
    approver = await ledger.principal("bob", "human", "read,approve")
    assert await approver.read("/v1/whoami") == {
        "actor": "bob",
        "actor_kind": "human",
        "authenticated": True,
        "scopes": ["approve", "read"],
    }
    pretender = ledger.caller({"Authorization": "Bearer bob", "X-Ledger-Actor": "bob"})
    assert (await pretender.get("/v1/whoami")).status == 401
    assert (await ledger.actor("bob").get("/v1/whoami")).status == 401
