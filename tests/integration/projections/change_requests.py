"""Change requests made the way clients make them: a policy that asks for two approvals, then
changes that wait for them."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain.policy_document import Approvals, PolicyDocument

from .conftest import ALICE, Ledger


async def two_eyes(ledger: Ledger, app: str = "shop", env: str = "staging") -> None:
    """``app`` with builds b1 and b2, whose changes in ``env`` wait for two approvals."""
    await ledger.do(c.CreateApp(app=app), ALICE)
    for build in ("b1", "b2"):
        await ledger.build(app, build)
    await ask_two_approvals(ledger, app, env)


async def ask_two_approvals(ledger: Ledger, app: str = "shop", env: str = "staging") -> None:
    policy = PolicyDocument(approvals=Approvals(required=2))
    await ledger.do(c.SetPolicy(app=app, env=env, reason="two eyes", policy=policy), ALICE)


async def deploy_request(
    ledger: Ledger, build: str, app: str = "shop", env: str = "staging"
) -> str:
    """A deploy that waits as a change request; its id."""
    result = await ledger.do(c.Deploy(app=app, env=env, build_id=build))
    assert result.request is not None and result.request.status == "pending"
    return result.request.id


def approve(request_id: str, app: str = "shop", env: str = "staging") -> c.ApproveRequest:
    return c.ApproveRequest(app=app, env=env, request_id=request_id)
