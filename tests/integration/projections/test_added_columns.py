"""Views made before a column was added get it when the ledger starts: a release made through
approvals shows how it passed the gates, also in a releases table from before gates."""

from __future__ import annotations

from ledger.domain import commands as c
from ledger.domain.events import GateFacts
from ledger.eventstore.application import LedgerStore
from ledger.read_side import open_views
from ledger.settings import Settings
from projections import sql

from .conftest import CI, Ledger


async def test_a_releases_table_from_before_gates_gets_their_column(
    settings: Settings, store: LedgerStore, ledger: Ledger
) -> None:
    views = await open_views(settings, store)
    async with views.database.transaction() as conn:  # the table as it was made before gates
        await conn.execute(f"DROP TABLE {sql.RELEASES}")
        old = next(s for s in sql.TABLES if f"EXISTS {sql.RELEASES} (" in s)
        await conn.execute(old.replace("gates TEXT,", ""))
    await views.close()

    views = await open_views(settings, store)
    try:
        await ledger.do(c.CreateApp(app="shop"))
        await ledger.build("shop", "b1")
        policy = c.SetPolicy(
            app="shop", env="prod", reason="two eyes",
            policy=c.PolicyDocument(approvals={"required": 1}),  # type: ignore[arg-type]
        )  # fmt: skip
        await ledger.do(policy)
        asked = await ledger.do(c.Deploy(app="shop", env="prod", build_id="b1"))
        assert asked.request is not None
        approve = c.ApproveRequest(app="shop", env="prod", request_id=asked.request.id)
        await ledger.do(approve, c.Context(actor="alice", actor_kind="human"))
        await views.runner.catch_up()
        release = await views.queries.release("shop", "prod", 1)
        assert release is not None
        assert release.gates == GateFacts(
            policy="shop/prod v1",
            request_id=asked.request.id,
            requested_at=release.gates.requested_at if release.gates else None,
            approved_by=("alice",),
        )
        assert release.actor == CI.actor
    finally:
        await views.close()
