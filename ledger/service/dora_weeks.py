"""DORA metrics week by week, for charts: contiguous 7-day windows ending at one moment, each
measured exactly as a report of that window alone (``ledger.service.dora.report``) is.

The history of the whole span is read once; each item is put in the week its recorded time
falls in, the same half-open [since, until) a report's own read uses, and each week is
measured over its items alone. So a week knows only what was recorded in it, as a report of
that week does: a canary aborted in one week and replaced in the next is unrestored in its
week, and a deploy rolled back in the next week is no failure of either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from ledger.eventstore.application import LedgerStore
from ledger.service.dora import Window, pooled, read_timeline, steps_by_environment
from ledger.wire.shapes import DoraWeek, DoraWeeks, HistoryItem

if TYPE_CHECKING:
    from projections.queries import Queries

WEEK = timedelta(days=7)


def end_of_day(now: datetime) -> datetime:
    """The next UTC midnight after ``now``: the default end of a series, the same all day."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(days=1)


def week_windows(scope: Window, weeks: int) -> list[Window]:
    """The ``weeks`` 7-day windows of the scope's app, env and inclusion that end at its
    ``until``, oldest first."""
    return [
        msgspec.structs.replace(
            scope, days=WEEK.days, until=scope.until - (weeks - 1 - n) * WEEK, breakdown=False
        )
        for n in range(weeks)
    ]


def items_by_week(
    items: Iterable[HistoryItem], since: datetime, weeks: int
) -> list[list[HistoryItem]]:
    """The items of each of ``weeks`` weeks from ``since``, each in its order; the n-th week
    holds the items recorded in [since + n weeks, since + n + 1 weeks)."""
    found: list[list[HistoryItem]] = [[] for _ in range(weeks)]
    for item in items:
        week = (item.recorded_at - since) // WEEK
        if 0 <= week < weeks:
            found[week].append(item)
    return found


async def weekly_report(
    queries: Queries, store: LedgerStore, scope: Window, weeks: int
) -> DoraWeeks:
    """The scope's metrics in each of ``weeks`` weeks that end at ``scope.until``."""
    windows = week_windows(scope, weeks)
    span = msgspec.structs.replace(scope, days=WEEK.days * weeks, breakdown=False)
    timeline = await read_timeline(queries, store, span)
    parts = items_by_week(timeline.items, span.since, weeks)
    return DoraWeeks(
        app=scope.app,
        env=scope.env,
        include_config=scope.include_config,
        weeks=[
            DoraWeek(
                since=window.since,
                until=window.until,
                metrics=pooled(
                    window, steps_by_environment(part, timeline.expired), timeline.committed
                ),
            )
            for window, part in zip(windows, parts, strict=True)
        ],
    )
