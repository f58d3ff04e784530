"""Freeze windows: when a recurring or one-off window is in force, on the wall clock of its
timezone across DST changes, and which windows a policy may hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.windows import (
    CHAIN_LIMIT,
    FreezeWindow,
    Occurrence,
    WindowError,
    check_windows,
    in_force,
    occurrences,
    parse_duration,
)

BERLIN = ZoneInfo("Europe/Berlin")
WEEKEND = FreezeWindow(
    name="weekend",
    reason="no changes over the weekend",
    cron="0 18 * * FRI",
    duration="62h",
    timezone="Europe/Berlin",
)
HOLIDAYS = FreezeWindow(
    name="holidays",
    start=datetime(2026, 12, 19, 18, tzinfo=BERLIN),
    end=datetime(2027, 1, 4, 8, tzinfo=BERLIN),
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[arg-type, misc]


def starts(found: list[Occurrence]) -> list[datetime]:
    return [occurrence.start for occurrence in found]


# Recurring windows on the wall clock


def test_the_weekend_freeze_is_in_force_on_saturday_noon_and_not_on_monday_noon() -> None:
    assert in_force([WEEKEND], berlin(2026, 6, 13, 12)) == Occurrence(
        name="weekend",
        start=utc(2026, 6, 12, 16),
        end=utc(2026, 6, 15, 6),
        reason="no changes over the weekend",
    )
    assert in_force([WEEKEND], berlin(2026, 6, 15, 12)) is None


def test_the_weekend_freeze_holds_from_its_first_instant_and_ends_before_its_last() -> None:
    assert in_force([WEEKEND], berlin(2026, 6, 12, 18)) is not None
    assert in_force([WEEKEND], berlin(2026, 6, 12, 17, 59, 59)) is None
    assert in_force([WEEKEND], berlin(2026, 6, 15, 7, 59, 59)) is not None
    assert in_force([WEEKEND], berlin(2026, 6, 15, 8)) is None


def test_the_weekend_freeze_starts_an_hour_later_in_utc_once_the_clocks_go_back() -> None:
    found = occurrences([WEEKEND], utc(2026, 10, 20), utc(2026, 11, 3))

    assert starts(found) == [utc(2026, 10, 23, 16), utc(2026, 10, 30, 17)]
    # 62 hours of elapsed time: the weekend of the change ends at 07:00 on Berlin's clock
    assert found[0].end == utc(2026, 10, 26, 6) == berlin(2026, 10, 26, 7)


def test_the_weekend_freeze_starts_an_hour_earlier_in_utc_once_the_clocks_go_forward() -> None:
    found = occurrences([WEEKEND], utc(2026, 3, 24), utc(2026, 4, 7))

    assert starts(found) == [utc(2026, 3, 27, 17), utc(2026, 4, 3, 16)]
    assert found[0].end == utc(2026, 3, 30, 7) == berlin(2026, 3, 30, 9)


def test_a_fire_time_in_the_spring_gap_starts_at_the_first_minute_after_it() -> None:
    nightly = FreezeWindow(
        name="nightly", cron="30 2 * * *", duration="1h", timezone="Europe/Berlin"
    )

    found = occurrences([nightly], utc(2026, 3, 27, 12), utc(2026, 3, 30, 12))

    assert starts(found) == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)]
    assert in_force([nightly], utc(2026, 3, 29, 1, 59)) == found[1]


def test_a_fire_time_in_the_repeated_autumn_hour_starts_once() -> None:
    nightly = FreezeWindow(
        name="nightly", cron="30 2 * * *", duration="1h", timezone="Europe/Berlin"
    )

    found = occurrences([nightly], utc(2026, 10, 24), utc(2026, 10, 27))

    assert starts(found) == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]
    assert in_force([nightly], utc(2026, 10, 25, 1, 45)) is None
    # an hour after the repeated hour's second pass began, the night's freeze has long ended
    assert in_force([nightly], utc(2026, 10, 25, 2, 10)) is None
    assert occurrences([nightly], utc(2026, 10, 25, 2, 10), utc(2026, 10, 25, 3)) == []


def test_an_occurrence_running_at_since_comes_with_its_real_start() -> None:
    found = occurrences([WEEKEND], berlin(2026, 6, 13, 12), berlin(2026, 6, 14))

    assert [(o.start, o.end) for o in found] == [(utc(2026, 6, 12, 16), utc(2026, 6, 15, 6))]


def test_occurrences_are_sorted_by_start_then_name_and_capped_at_the_limit() -> None:
    hourly = FreezeWindow(name="hourly", cron="0 * * * *", duration="10m")
    half_past = FreezeWindow(name="half-past", cron="30 * * * *", duration="10m")
    also_hourly = FreezeWindow(name="also-hourly", cron="0 * * * *", duration="5m")

    found = occurrences([hourly, half_past, also_hourly], utc(2026, 6, 1), utc(2026, 6, 8), limit=4)

    assert [(o.name, o.start) for o in found] == [
        ("also-hourly", utc(2026, 6, 1)),
        ("hourly", utc(2026, 6, 1)),
        ("half-past", utc(2026, 6, 1, 0, 30)),
        ("also-hourly", utc(2026, 6, 1, 1)),
    ]


# One-off windows


def test_a_one_off_window_is_in_force_from_its_start_until_just_before_its_end() -> None:
    assert in_force([HOLIDAYS], utc(2026, 12, 25, 12)) == Occurrence(
        name="holidays", start=utc(2026, 12, 19, 17), end=utc(2027, 1, 4, 7)
    )
    assert in_force([HOLIDAYS], berlin(2026, 12, 19, 18)) is not None
    assert in_force([HOLIDAYS], berlin(2026, 12, 19, 17, 59)) is None
    assert in_force([HOLIDAYS], berlin(2027, 1, 4, 8)) is None


@pytest.mark.parametrize(
    ("since", "until", "included"),
    [
        (utc(2026, 12, 1), utc(2026, 12, 20), True),  # overlaps its start
        (utc(2027, 1, 1), utc(2027, 2, 1), True),  # already running at since
        (utc(2026, 12, 20), utc(2026, 12, 21), True),  # inside it
        (utc(2026, 12, 1), utc(2026, 12, 19, 17), False),  # until is exclusive
        (utc(2027, 1, 4, 7), utc(2027, 2, 1), False),  # it ended at since
    ],
)
def test_occurrences_include_a_one_off_window_that_overlaps(
    since: datetime, until: datetime, included: bool
) -> None:
    found = occurrences([HOLIDAYS], since, until)

    assert found == ([in_force([HOLIDAYS], utc(2026, 12, 25))] if included else [])


# Overlaps and chains


def test_of_overlapping_windows_the_one_that_ends_last_is_in_force() -> None:
    launch = FreezeWindow(name="launch", start=utc(2026, 6, 13), end=utc(2026, 6, 17))
    saturday = FreezeWindow(name="saturday", start=utc(2026, 6, 13), end=utc(2026, 6, 14))

    for windows in ([WEEKEND, launch, saturday], [saturday, launch, WEEKEND]):
        assert in_force(windows, berlin(2026, 6, 13, 12)) == Occurrence(
            name="launch", start=utc(2026, 6, 13), end=utc(2026, 6, 17)
        )
    assert in_force([saturday, WEEKEND], berlin(2026, 6, 13, 12)) == in_force(
        [WEEKEND], berlin(2026, 6, 13, 12)
    )


def test_overlapping_occurrences_of_one_window_hold_until_the_last_of_them_ends() -> None:
    mornings = FreezeWindow(name="mornings", cron="0 9,10 * * MON-FRI", duration="90m")

    assert in_force([mornings], utc(2026, 6, 15, 9, 15)) == Occurrence(
        name="mornings", start=utc(2026, 6, 15, 9), end=utc(2026, 6, 15, 11, 30)
    )
    assert in_force([mornings], utc(2026, 6, 15, 10, 45)) == Occurrence(
        name="mornings", start=utc(2026, 6, 15, 10), end=utc(2026, 6, 15, 11, 30)
    )
    assert in_force([mornings], utc(2026, 6, 15, 11, 30)) is None


def test_back_to_back_occurrences_chain_and_the_chain_is_followed_a_bounded_way() -> None:
    hourly = FreezeWindow(name="hourly", cron="0 * * * *", duration="1h")

    running = in_force([hourly], utc(2026, 6, 15, 10, 30))

    assert running is not None
    assert running.start == utc(2026, 6, 15, 10)
    # the chain never ends; it is reported up to CHAIN_LIMIT occurrences ahead, and is still
    # in force there, so a change is refused all the same
    assert running.end == utc(2026, 6, 15, 11) + CHAIN_LIMIT * timedelta(hours=1)
    assert in_force([hourly], running.end) is not None


def test_a_window_firing_every_minute_for_a_year_is_evaluated_within_the_bound() -> None:
    always = FreezeWindow(name="always", cron="* * * * *", duration="366d")
    at = utc(2026, 6, 15, 10, 30)

    running = in_force([always], at)

    assert running is not None
    assert running.start == at - timedelta(days=366) + timedelta(minutes=1)
    assert running.end == at + timedelta(days=366) + CHAIN_LIMIT * timedelta(minutes=1)
    assert len(occurrences([always], at, at + timedelta(minutes=1))) == 500


# Validation


def windows_with(**second: object) -> list[FreezeWindow]:
    """A valid window followed by one with the fields given."""
    return [WEEKEND, FreezeWindow(**{"name": "second", **second})]  # type: ignore[arg-type]


RECURRING: dict[str, object] = {"cron": "0 18 * * FRI", "duration": "48h"}
ONE_OFF: dict[str, object] = {"start": utc(2026, 1, 1), "end": utc(2026, 1, 2)}


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({**RECURRING, "cron": "0 18 * * FRX"}, "freeze[1].cron"),
        ({**RECURRING, "cron": "0 61 * * *"}, "freeze[1].cron"),
        ({**RECURRING, "cron": "0 0 18 * * FRI"}, "freeze[1].cron"),
        ({**RECURRING, "cron": "0 0 30 2 *"}, "freeze[1].cron"),
        ({**RECURRING, "timezone": "Mars/Olympus_Mons"}, "freeze[1].timezone"),
        ({**RECURRING, "timezone": "Europe"}, "freeze[1].timezone"),
        ({**RECURRING, "timezone": "../etc/passwd"}, "freeze[1].timezone"),
        ({**ONE_OFF, "start": datetime(2026, 1, 1)}, "freeze[1].start"),
        ({**ONE_OFF, "end": datetime(2026, 1, 2)}, "freeze[1].end"),
        ({**ONE_OFF, "end": utc(2026, 1, 1)}, "freeze[1].end"),
        ({**ONE_OFF, "end": utc(2025, 12, 31)}, "freeze[1].end"),
        ({**RECURRING, "start": utc(2026, 1, 1)}, "freeze[1]"),
        ({**RECURRING, **ONE_OFF}, "freeze[1]"),
        ({}, "freeze[1]"),
        ({"reason": "no when"}, "freeze[1]"),
        ({"cron": "0 18 * * FRI"}, "freeze[1].duration"),
        ({"duration": "1h"}, "freeze[1].cron"),
        ({"start": utc(2026, 1, 1)}, "freeze[1].end"),
        ({"end": utc(2026, 1, 1)}, "freeze[1].start"),
        ({**RECURRING, "duration": "0h"}, "freeze[1].duration"),
        ({**RECURRING, "duration": "0d0h0m0s"}, "freeze[1].duration"),
        ({**RECURRING, "duration": "366d1s"}, "freeze[1].duration"),
        ({**RECURRING, "duration": "1x"}, "freeze[1].duration"),
        ({**RECURRING, "duration": "30m1h"}, "freeze[1].duration"),
        ({**RECURRING, "name": "weekend"}, "freeze[1].name"),
        ({**RECURRING, "name": "-dash-first"}, "freeze[1].name"),
    ],
)
def test_a_window_that_cannot_be_evaluated_is_refused_naming_the_part_at_fault(
    second: dict[str, object], field: str
) -> None:
    windows = windows_with(**second)

    with pytest.raises(WindowError) as refused:
        check_windows(windows)

    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")
    assert isinstance(refused.value, ValueError)


def test_a_refusal_names_the_field_under_the_prefix_given() -> None:
    with pytest.raises(WindowError) as refused:
        check_windows([WEEKEND, HOLIDAYS, WEEKEND], field="policy.freeze")

    assert refused.value.field == "policy.freeze[2].name"


@pytest.mark.parametrize(
    "window",
    [
        WEEKEND,
        HOLIDAYS,
        FreezeWindow(name="a year", cron="0 0 1 1 *", duration="366d", timezone="Asia/Kolkata"),
        FreezeWindow(name="leap day", cron="0 0 29 2 *", duration="1d"),
        FreezeWindow(
            name="offset",
            start=datetime.fromisoformat("2026-05-01T00:00:00-07:00"),
            end=datetime.fromisoformat("2026-05-01T00:00:01-07:00"),
        ),
    ],
)
def test_a_window_that_can_be_evaluated_passes(window: FreezeWindow) -> None:
    check_windows([window])


@given(
    fields=st.lists(
        st.text(alphabet="0123456789*/-,#LW?MONFRIJAN", min_size=1, max_size=8),
        min_size=1,
        max_size=7,
    ),
    duration=st.text(alphabet="0123456789dhms-x ", max_size=8),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "Europe", "Etc/GMT+5", "No/Where", ".", ""]),
)
@settings(max_examples=300, deadline=None)
def test_any_cron_duration_or_timezone_passes_or_is_refused_as_a_window_error(
    fields: list[str], duration: str, timezone: str
) -> None:
    window = FreezeWindow(name="any", cron=" ".join(fields), duration=duration, timezone=timezone)

    try:
        check_windows([window])
    except WindowError as refused:
        assert refused.field in {"freeze[0].cron", "freeze[0].duration", "freeze[0].timezone"}


# Durations


@pytest.mark.parametrize(
    ("text", "elapsed"),
    [
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
        ("90s", timedelta(seconds=90)),
        ("48h", timedelta(hours=48)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("0m", timedelta(0)),
    ],
)
def test_a_duration_is_days_hours_minutes_and_seconds_in_that_order(
    text: str, elapsed: timedelta
) -> None:
    assert parse_duration(text) == elapsed


@pytest.mark.parametrize(
    "text", ["", "h", "1x", "-1h", "30m1h", "1h ", "1h\n", "1.5h", "\u0661h", "1H"]
)
def test_a_text_that_is_no_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


# The wire shape


def test_a_window_decodes_from_json_and_encodes_without_its_defaults() -> None:
    raw = b'{"name":"weekend","cron":"0 18 * * FRI","duration":"62h","timezone":"Europe/Berlin"}'

    window = msgspec.json.decode(raw, type=FreezeWindow)

    assert window == FreezeWindow(
        name="weekend", cron="0 18 * * FRI", duration="62h", timezone="Europe/Berlin"
    )
    assert msgspec.json.encode(window) == raw
    assert msgspec.json.encode(FreezeWindow(name="x", cron="0 0 * * *", duration="1h")) == (
        b'{"name":"x","cron":"0 0 * * *","duration":"1h"}'
    )


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b'{"name":"x","cron":"0 0 * * *","duration":"1h","colour":"red"}', "colour"),
        (b'{"name":"x","cron":"0 0 * * *","duration":"1h","reason":"a\\u0000b"}', "$.reason"),
        (b'{"name":"x","cron":"0 0 * * \\u0000","duration":"1h"}', "$.cron"),
        (b'{"name":"x","cron":"0 0 * * *","duration":"1x"}', "$.duration"),
        (b'{"name":" x","cron":"0 0 * * *","duration":"1h"}', "$.name"),
        (b'{"name":"x","cron":"0 0 * * *","duration":"1h","timezone":"../etc"}', "$.timezone"),
    ],
)
def test_a_window_that_breaks_the_wire_rules_is_refused_naming_the_field(
    raw: bytes, path: str
) -> None:
    with pytest.raises(msgspec.ValidationError, match=path.replace("$", r"\$")):
        msgspec.json.decode(raw, type=FreezeWindow)


# Properties: in_force agrees with the occurrences it is made of

SAMPLES = [
    WEEKEND,
    HOLIDAYS,
    FreezeWindow(name="nightly", cron="30 2 * * *", duration="1h", timezone="Europe/Berlin"),
    FreezeWindow(name="mornings", cron="0 9,10 * * MON-FRI", duration="90m"),
    FreezeWindow(name="office", cron="0 9-11 * * MON-FRI", duration="1h", timezone="Europe/Paris"),
    FreezeWindow(name="quarters", cron="*/15 1 * * *", duration="7m", timezone="America/New_York"),
    FreezeWindow(
        name="evenings", cron="0 22 * * *", duration="10h", timezone="Australia/Lord_Howe"
    ),
]
CLOCK_CHANGES = [  # Berlin, New York and Lord Howe (a half-hour change) in 2026
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2026, 4, 4, 15),
    utc(2026, 10, 3, 15, 30),
]
NEAR_A_CLOCK_CHANGE = st.builds(
    lambda change, offset: change + offset,
    st.sampled_from(CLOCK_CHANGES),
    st.timedeltas(min_value=timedelta(hours=-72), max_value=timedelta(hours=72)),
)
MOMENTS = st.one_of(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)
    ),
    NEAR_A_CLOCK_CHANGE,
)


@given(window=st.sampled_from(SAMPLES), at=MOMENTS)
@settings(max_examples=1000, deadline=None)
def test_in_force_is_the_chain_of_the_occurrences_running_at_that_moment(
    window: FreezeWindow, at: datetime
) -> None:
    running = [o for o in occurrences([window], at, at + timedelta(microseconds=1))]

    found = in_force([window], at)

    assert all(o.start <= at < o.end for o in running)
    if not running:
        assert found is None
        return
    assert found is not None
    assert found.start == min(o.start for o in running) <= at < max(o.end for o in running)
    assert found.end >= max(o.end for o in running)
    # the chain has ended at its end: no occurrence of the window runs then
    assert occurrences([window], found.end, found.end + timedelta(microseconds=1)) == []
