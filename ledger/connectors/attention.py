"""The connectors that need someone: those whose deliveries of the last LOOKBACK failed —
rejected (the signature did not verify: a wrong secret on either side, or a forgery), refused
(the ledger refused what it asked) or unmapped (it names what the mapping cannot map). A
connector counts from its first such failure in that time, even when newer deliveries worked:
its ``last_delivery`` tells whether it recovered. Never its secret."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.connectors.registry import DELIVERIES, ConnectorStore
from ledger.wire.attention import AttentionFilter, ConnectorNeed
from projections.rows import instant, timestamp

LOOKBACK = timedelta(hours=24)
FAILED = ("rejected", "refused", "unmapped")
_FAILED_SQL = ", ".join(f"'{outcome}'" for outcome in FAILED)
_NEWEST = "ORDER BY received_at DESC, delivery_id DESC LIMIT 1"


async def connector_needs(
    store: ConnectorStore, where: AttentionFilter, now: datetime
) -> list[ConnectorNeed]:
    """Each connector with failed deliveries since ``now - LOOKBACK`` whose mapping can name
    an app and env ``where`` names (one that fixes another app or env cannot), by name."""
    rows = await store.database.fetch(
        f"SELECT connector, COUNT(*) AS n FROM {DELIVERIES} WHERE outcome IN ({_FAILED_SQL}) "
        "AND received_at >= $1 GROUP BY connector ORDER BY connector",
        timestamp(now - LOOKBACK),
    )
    needs = []
    for row in rows:
        connector = await store.get(str(row["connector"]))
        if connector is None or not where.includes(connector.mapping.app, connector.mapping.env):
            continue
        need = await _need(store, connector.name, connector.kind, int(row["n"]))
        if need is not None:
            needs.append(need)
    return needs


async def _need(store: ConnectorStore, name: str, kind: str, failures: int) -> ConnectorNeed | None:
    """The connector's newest failure and newest delivery (None: deleted meanwhile)."""
    columns = "received_at, outcome, detail"
    failed = await store.database.fetchrow(
        f"SELECT {columns} FROM {DELIVERIES} WHERE connector = $1 AND outcome IN "
        f"({_FAILED_SQL}) {_NEWEST}",
        name,
    )
    newest = await store.database.fetchrow(
        f"SELECT {columns} FROM {DELIVERIES} WHERE connector = $1 {_NEWEST}", name
    )
    if failed is None or newest is None:
        return None
    return ConnectorNeed(
        name=name, kind=kind, failures=failures, last_failure_at=instant(failed["received_at"]),
        last_failure=str(failed["outcome"]), last_delivery_at=instant(newest["received_at"]),
        last_delivery=str(newest["outcome"]), last_reason=failed["detail"],
    )  # fmt: skip
