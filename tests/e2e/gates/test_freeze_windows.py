"""Freeze windows: while one is in force, deploys, config changes and promotions are refused
with 423 naming the window and its end; an admin may go through with force and a reason, which
the release and the history keep; the windows listed follow their timezone's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ..conftest import Api
from .places import Outcome, Place

pytestmark = pytest.mark.e2e

ALWAYS = {"name": "always", "cron": "* * * * *", "duration": "1h", "reason": "code freeze"}
NIGHTLY_IN_BERLIN = {
    "name": "nightly",
    "cron": "0 22 * * *",
    "duration": "1h",
    "timezone": "Europe/Berlin",
}


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def one_off(name: str, starts_in: timedelta, lasts: timedelta) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + starts_in
    return {"name": name, "start": rfc3339(start), "end": rfc3339(start + lasts)}


def test_a_one_off_window_refuses_deploys_config_and_promotions_until_its_end(
    place: Place,
) -> None:
    build = place.build()
    place.released(build, "staging")
    window = one_off("release-party", -timedelta(minutes=5), timedelta(hours=2))
    place.policy(freeze=[window | {"reason": "the launch"}])

    for answer in (place.deploy(build), place.configure(), place.promote("staging")):
        problem = Outcome.of(answer).refused(423, "freeze")
        assert (problem["window"], problem["ends_at"]) == ("release-party", window["end"]), answer
        assert window["end"] in problem["detail"] and "the launch" in problem["detail"]
    assert place.version() == 0
    assert [i["data"]["gate"] for i in place.history(kind="denied")] == ["freeze"] * 3


def test_a_recurring_window_in_force_refuses_changes_and_shows_in_the_policy(
    place: Place, api: Api
) -> None:
    build = place.build()
    place.policy(freeze=[ALWAYS])

    problem = Outcome.of(place.deploy(build)).refused(423, "freeze")

    assert problem["window"] == "always" and problem["ends_at"] > rfc3339(datetime.now(UTC))
    frozen = api.read(f"{place.path}/policy")["frozen"]
    assert (frozen["name"], frozen["reason"]) == ("always", "code freeze"), frozen


def test_a_window_not_in_force_lets_changes_through(place: Place, api: Api) -> None:
    build = place.build()
    place.policy(freeze=[one_off("next-week", timedelta(days=7), timedelta(days=1))])

    Outcome.of(place.deploy(build)).released()

    assert api.read(f"{place.path}/policy")["frozen"] is None


def test_an_admin_goes_through_a_freeze_with_force_and_a_reason_which_is_recorded(
    place: Place,
) -> None:
    build = place.build()
    place.policy(freeze=[ALWAYS])

    forced = place.deploy(build, force=True, reason="hotfix for the checkout outage")

    release = Outcome.of(forced).released()
    [deploy] = place.history(kind="deploy")
    assert "overriding freeze 'always'" in deploy["summary"], deploy
    assert deploy["reason"] == "hotfix for the checkout outage"
    assert release["gates"]["overrode"] == ["always"], release


def test_force_without_a_reason_does_not_go_through_a_freeze(place: Place) -> None:
    build = place.build()
    place.policy(freeze=[ALWAYS])

    Outcome.of(place.deploy(build, force=True)).refused(423, "freeze")
    Outcome.of(place.configure(force=True)).refused(423, "freeze")

    assert place.version() == 0


@pytest.mark.parametrize(
    ("since", "until", "starts"),
    [
        (
            "2025-03-28T00:00:00Z",
            "2025-04-01T00:00:00Z",
            ["2025-03-28T21:00:00Z", "2025-03-29T21:00:00Z", "2025-03-30T20:00:00Z",
             "2025-03-31T20:00:00Z"],
        ),
        (
            "2025-10-24T00:00:00Z",
            "2025-10-28T00:00:00Z",
            ["2025-10-24T20:00:00Z", "2025-10-25T20:00:00Z", "2025-10-26T21:00:00Z",
             "2025-10-27T21:00:00Z"],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)  # fmt: skip
def test_the_windows_listed_follow_the_timezones_clock_across_a_dst_change(
    place: Place, api: Api, since: str, until: str, starts: list[str]
) -> None:
    place.policy(freeze=[NIGHTLY_IN_BERLIN])

    listed = api.read(f"{place.path}/policy/windows", **{"from": since, "to": until})

    assert [i["start"] for i in listed["items"]] == starts, listed
    assert {i["name"] for i in listed["items"]} == {"nightly"}
    ends = [rfc3339(datetime.fromisoformat(s) + timedelta(hours=1)) for s in starts]
    assert [i["end"] for i in listed["items"]] == ends, listed
