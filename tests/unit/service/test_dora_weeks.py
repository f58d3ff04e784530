"""The weeks of a DORA series: where they begin and end, and which items each holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

from ledger.service.dora import Window
from ledger.service.dora_weeks import WEEK, end_of_day, items_by_week, week_windows
from ledger.wire.shapes import HistoryItem

UNTIL = datetime(2025, 3, 31, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def item(position: int, at: datetime) -> HistoryItem:
    return HistoryItem(
        position=position, event_id=uuid4(), app="shop", env="prod", kind="flag",
        actor="ci-bot", actor_kind="ci", via="http", summary="", reason=None,
        recorded_at=at, data={},
    )  # fmt: skip


def test_a_series_ends_at_the_next_utc_midnight_all_day_long() -> None:
    midnight = datetime(2025, 3, 5, tzinfo=UTC)
    for now in (midnight - timedelta(days=1), midnight - TICK, midnight - timedelta(hours=13)):
        assert end_of_day(now) == midnight
    assert end_of_day(midnight) == midnight + timedelta(days=1)
    in_tokyo = datetime(2025, 3, 5, 8, 0, tzinfo=timezone(timedelta(hours=9)))  # 23:00 UTC
    assert end_of_day(in_tokyo) == midnight


def test_weeks_are_contiguous_seven_day_windows_oldest_first() -> None:
    scope = Window(days=7, until=UNTIL, app="shop", env=None, include_config=True, breakdown=True)
    weeks = week_windows(scope, 3)
    assert [(w.since, w.until) for w in weeks] == [
        (UNTIL - 3 * WEEK, UNTIL - 2 * WEEK),
        (UNTIL - 2 * WEEK, UNTIL - WEEK),
        (UNTIL - WEEK, UNTIL),
    ]
    for week in weeks:
        assert (week.days, week.app, week.env, week.include_config) == (7, "shop", None, True)
        assert not week.breakdown  # the series pools; it breaks nothing down


def test_each_item_lands_in_the_week_whose_half_open_window_holds_it() -> None:
    since = UNTIL - 2 * WEEK
    items = [
        item(1, since - TICK),  # before the series
        item(2, since),  # the first instant of week 0
        item(3, since + WEEK - TICK),  # the last instant of week 0
        item(4, since + WEEK),  # the first instant of week 1
        item(5, since + 2 * WEEK - TICK),
        item(6, UNTIL),  # the series' end is not in it
        item(7, since + timedelta(days=1)),  # out of time order: kept in log order
    ]
    weeks = items_by_week(items, since, 2)
    assert [[i.position for i in week] for week in weeks] == [[2, 3, 7], [4, 5]]
