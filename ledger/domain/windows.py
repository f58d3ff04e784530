"""Freeze windows: the times an environment takes no changes, recurring or one-off.

A recurring window starts at each fire time of its cron expression on its timezone's wall clock
(a time in a DST gap moves to the first minute after it; a repeated hour fires once) and lasts
its duration of elapsed time. Every moment returned is in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from msgspec import Meta, Struct

from ledger.domain.text import Storable

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"
DURATION_PATTERN = (
    r"^(?=[0-9])(?:([0-9]{1,6})d)?(?:([0-9]{1,6})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,6})s)?$"
)
TIMEZONE_PATTERN = r"^[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*$"
LONGEST = timedelta(days=366)
CHAIN_LIMIT = 1_000
"""How many later occurrences `in_force` follows to find where a chain of back-to-back or
overlapping occurrences ends: a longer chain is reported as ending after that many (it is
still in force then, so a change is still refused), which bounds the work of one check."""

WindowName = Annotated[str, Meta(pattern=NAME_PATTERN)]
Text = Annotated[Storable, Meta(max_length=4096)]
CronExpr = Annotated[Storable, Meta(max_length=128)]
DurationText = Annotated[str, Meta(pattern=DURATION_PATTERN)]
TimezoneName = Annotated[str, Meta(max_length=64, pattern=TIMEZONE_PATTERN)]
_DURATION = re.compile(DURATION_PATTERN)
_NAME = re.compile(NAME_PATTERN)
_MICROSECOND = timedelta(microseconds=1)


class FreezeWindow(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A time changes may not be made: recurring (cron + duration) or one-off (start/end)."""

    name: WindowName
    reason: Text | None = None
    cron: CronExpr | None = None
    duration: DurationText | None = None
    timezone: TimezoneName = "UTC"
    start: datetime | None = None
    end: datetime | None = None


class Occurrence(Struct, frozen=True, kw_only=True):
    """One time a window is in force."""

    name: str
    start: datetime
    end: datetime
    reason: str | None = None


class WindowError(ValueError):
    """A window that cannot be evaluated; `field` names the part at fault ("freeze[1].cron")."""

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.detail = detail
        self.field = field


def parse_duration(text: str) -> timedelta:
    """The elapsed time a text like "1h30m" or "2d" names (days, hours, minutes, seconds)."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is no duration like 48h, 1h30m, 2d or 90s")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def check_windows(windows: Sequence[FreezeWindow], *, field: str = "freeze") -> None:
    """Raise WindowError naming the part at fault of the first window that cannot be evaluated."""
    names: set[str] = set()
    for index, window in enumerate(windows):
        at = f"{field}[{index}]"
        if window.name in names or not _NAME.fullmatch(window.name):
            wrong = "names an earlier window" if window.name in names else "is no window name"
            raise WindowError(f"{window.name!r} {wrong}", field=f"{at}.name")
        names.add(window.name)
        _check_kind(window, at)
        try:
            ZoneInfo(window.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise WindowError(f"no timezone {window.timezone!r}", field=f"{at}.timezone") from None
        if window.cron is not None:
            _check_recurring(window, at)
        else:
            _check_one_off(window, at)


def _check_kind(window: FreezeWindow, at: str) -> None:
    recurring = {"cron": window.cron, "duration": window.duration}
    one_off = {"start": window.start, "end": window.end}
    is_recurring = any(value is not None for value in recurring.values())
    if is_recurring == any(value is not None for value in one_off.values()):
        raise WindowError("needs cron and duration, or start and end: one of the two", field=at)
    for part, value in (recurring if is_recurring else one_off).items():
        if value is None:
            raise WindowError(f"needs {part} too", field=f"{at}.{part}")


def _check_recurring(window: FreezeWindow, at: str) -> None:
    assert window.cron is not None and window.duration is not None
    if len(window.cron.split()) != 5:
        raise WindowError("a cron expression has 5 fields", field=f"{at}.cron")
    try:
        next(CronSim(window.cron, datetime(2000, 1, 1, tzinfo=ZoneInfo(window.timezone))))
    except (CronSimError, StopIteration) as error:
        raise WindowError(
            f"{window.cron!r}: {str(error) or 'never fires'}", field=f"{at}.cron"
        ) from None
    try:
        duration = parse_duration(window.duration)
    except ValueError as error:
        raise WindowError(str(error), field=f"{at}.duration") from None
    if not timedelta(0) < duration <= LONGEST:
        raise WindowError("a duration is longer than 0 and at most 366d", field=f"{at}.duration")


def _check_one_off(window: FreezeWindow, at: str) -> None:
    assert window.start is not None and window.end is not None
    for part, moment in (("start", window.start), ("end", window.end)):
        if moment.utcoffset() is None:
            raise WindowError("needs a timezone offset", field=f"{at}.{part}")
    if window.end <= window.start:
        raise WindowError("is not after start", field=f"{at}.end")


def in_force(windows: Sequence[FreezeWindow], at: datetime) -> Occurrence | None:
    """The window in force at `at`, if any; of several, the one that ends last (the first on a tie).

    A recurring window runs from the earliest of its occurrences running at `at` to the end of the
    chain they start: each later occurrence that starts before the chain has ended (back-to-back
    counts) extends it, up to CHAIN_LIMIT of them."""
    moment = _utc(at)
    running = [occurrence for w in windows if (occurrence := _running(w, moment)) is not None]
    return max(running, key=lambda occurrence: occurrence.end, default=None)


def occurrences(
    windows: Sequence[FreezeWindow], since: datetime, until: datetime, *, limit: int = 500
) -> list[Occurrence]:
    """Every occurrence overlapping [since, until), sorted by start then name, at most `limit`
    (one already running at `since` comes with its real start)."""
    begin, stop = _utc(since), _utc(until)
    found = [o for window in windows for o in islice(_overlapping(window, begin, stop), limit)]
    return sorted(found, key=lambda occurrence: (occurrence.start, occurrence.name))[:limit]


def _overlapping(window: FreezeWindow, since: datetime, until: datetime) -> Iterator[Occurrence]:
    if window.cron is None:
        occurrence = _one_off(window)
        if occurrence.start < until and occurrence.end > since:
            yield occurrence
        return
    duration = _duration(window)
    for start in _starts(window, since - duration):
        if start >= until:
            return
        yield _occurrence(window, start, start + duration)


def _running(window: FreezeWindow, at: datetime) -> Occurrence | None:
    if window.cron is None:
        occurrence = _one_off(window)
        return occurrence if occurrence.start <= at < occurrence.end else None
    duration = _duration(window)
    first = next(_starts(window, at - duration), None)
    if first is None or first > at:
        return None
    latest = max(first, _latest_start(window, at) or first)
    return _occurrence(window, first, _chain_end(window, latest, duration))


def _chain_end(window: FreezeWindow, latest: datetime, duration: timedelta) -> datetime:
    end = latest + duration
    for start in islice(_starts(window, latest), CHAIN_LIMIT):
        if start > end:
            break
        end = start + duration
    return end


def _starts(window: FreezeWindow, after: datetime) -> Iterator[datetime]:
    """The window's start times after `after`, in UTC, in order."""
    assert window.cron is not None
    for fire in CronSim(window.cron, after.astimezone(ZoneInfo(window.timezone))):
        start = fire.astimezone(UTC)
        if start > after:  # cronsim reads a repeated hour's wall clock as its first pass
            yield start


def _latest_start(window: FreezeWindow, at: datetime) -> datetime | None:
    """The window's last start time at or before `at`."""
    assert window.cron is not None
    zone = ZoneInfo(window.timezone)
    fires = CronSim(window.cron, (at + _MICROSECOND).astimezone(zone), reverse=True)
    return next((start for f in fires if (start := f.astimezone(UTC)) <= at), None)


def _one_off(window: FreezeWindow) -> Occurrence:
    assert window.start is not None and window.end is not None
    return _occurrence(window, _utc(window.start), _utc(window.end))


def _occurrence(window: FreezeWindow, start: datetime, end: datetime) -> Occurrence:
    return Occurrence(name=window.name, start=start, end=end, reason=window.reason)


def _duration(window: FreezeWindow) -> timedelta:
    assert window.duration is not None
    return parse_duration(window.duration)


def _utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no timezone offset")
    return moment.astimezone(UTC)
