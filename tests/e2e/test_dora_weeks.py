"""GET /v1/dora/weeks against a real `ledger serve` on SQLite: every week of the series is what
GET /v1/dora?days=7&until= that week's end answers, for the fleet, an app, an environment.

Six weeks of two apps are written first on the ledger's own command path with an explicit clock
(the recorded times of a live server are its clock's), then the server starts on that store.
The weeks hold what makes a window's edge matter: a failure on a Sunday night rolled back on
Monday, a canary completed in the next week, drift that began a week before it ended, a deploy
at the very instant a week begins, an empty week, and a canary that ends after the series.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.domain import commands as c
from ledger.domain.events import Artifact, Pipeline
from ledger.eventstore.application import LedgerStore
from ledger.service.session import Session
from ledger.service.unit_of_work import handle
from ledger.settings import Settings

from .conftest import Api, LedgerServer, running, server_environ

pytestmark = pytest.mark.e2e

UNTIL = datetime(2025, 3, 31, tzinfo=UTC)  # a Monday: the series ends at its first instant
WEEK, DAY, HOUR = timedelta(days=7), timedelta(days=1), timedelta(hours=1)
START = UNTIL - 6 * WEEK
CI = c.Context(actor="ci-bot", actor_kind="ci", via="http")
ALICE = c.Context(actor="alice", actor_kind="human", via="cli")
SCOPES: list[dict[str, str]] = [
    {},
    {"app": "shop"},
    {"env": "prod"},
    {"app": "shop", "env": "prod"},
]


class History:
    """Commands decided as if the ledger's clock said a given time, and saved."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    def at(self, when: datetime, cmd: c.AnyCommand, ctx: c.Context = CI) -> None:
        session = Session(self.store, OrderedDict())
        decided = handle(session, cmd, ctx, when)
        assert decided.refusal is None, decided.refusal
        self.store.save(*session.pending)

    def build(self, when: datetime, app: str, bid: str, committed: datetime) -> None:
        commit = (bid.encode().hex() + "0" * 40)[:40]
        self.at(when, c.RecordBuild(
            app=app, build_id=bid, commit=commit, status="succeeded",
            artifact=Artifact(digest=digest(bid)), pipeline=Pipeline(name="ci", run_id=bid),
            committed_at=committed,
        ))  # fmt: skip

    def runs(self, when: datetime, app: str, env: str, bid: str) -> None:
        """The reporter sees one instance of ``bid`` running."""
        instance = c.InstanceReport(id=f"{app}-0", artifact_digest=digest(bid))
        report = c.ReportRuntime(app=app, env=env, reporter="k8s", instances=[instance])
        self.at(when, report)


def digest(bid: str) -> str:
    return "sha256:" + (bid.encode().hex() + "0" * 64)[:64]


def deploy(app: str, env: str, bid: str, **kw: Any) -> c.Deploy:
    return c.Deploy(app=app, env=env, build_id=bid, **kw)


def rollout(app: str, version: int, status: str) -> c.ProgressRollout:
    return c.ProgressRollout(app=app, env="prod", version=version, status=status)  # type: ignore[arg-type]


def write_history(h: History) -> None:
    w = [START + n * WEEK for n in range(6)]  # the first instant of each week
    for app in ("shop", "api"):
        h.at(w[0], c.CreateApp(app=app), ALICE)
    h.build(w[0] + HOUR, "shop", "b1", committed=w[0])
    h.at(w[0] + 2 * HOUR, deploy("shop", "staging", "b1"))
    h.at(w[0] + 3 * HOUR, deploy("shop", "prod", "b1"))  # v1
    h.at(w[0] + DAY, c.ChangeConfig(app="shop", env="prod", set={"A": "1"}, reason="tune"))  # v2
    h.runs(w[0] + DAY + HOUR, "shop", "prod", "b1")
    # week 1: a canary goes out on Saturday and completes on Monday, in week 2
    h.build(w[1] + HOUR, "shop", "b2", committed=w[1])
    h.build(w[1] + DAY, "api", "a1", committed=w[1] + 12 * HOUR)
    h.at(w[1] + 2 * DAY, deploy("api", "prod", "a1"))
    h.at(w[1] + 2 * DAY + HOUR, c.SetFlag(app="shop", env="prod", flag="beta", enabled=True))
    h.at(w[1] + 5 * DAY, deploy("shop", "prod", "b2", strategy="canary", steps=[10, 100]))  # v3
    h.at(w[2] + HOUR, rollout("shop", 3, "completed"))
    # week 2: b3 goes out late on Sunday; it is rolled back on Monday, in week 3
    h.build(w[2] + DAY, "shop", "b3", committed=w[2] + 20 * HOUR)
    h.at(w[2] + 2 * DAY, deploy("shop", "staging", "b3"))
    h.at(w[3] - HOUR, deploy("shop", "prod", "b3"))  # v4
    h.at(w[3] + HOUR, c.Rollback(app="shop", env="prod", reason="5xx"), ALICE)  # v5: b2
    # week 3: drift found on Wednesday, ended in week 4; a canary aborted; a config release
    h.runs(w[3] + 2 * DAY, "shop", "prod", "b9")
    h.build(w[3] + 3 * DAY, "shop", "b4", committed=w[3] + 2 * DAY)
    h.at(w[3] + 3 * DAY + HOUR, deploy("shop", "prod", "b4", strategy="canary", steps=[50, 100]))
    h.at(w[3] + 4 * DAY, rollout("shop", 6, "aborted"))
    h.at(w[3] + 5 * DAY, c.ChangeConfig(app="shop", env="prod", set={"A": "2"}))  # v7
    # week 4: the drift ends; nothing else. Week 5: a deploy at its very first instant, a
    # promotion, and a canary that completes only after the series' end
    h.runs(w[4] + DAY, "shop", "prod", "b2")
    h.build(w[4] + 2 * DAY, "api", "a2", committed=w[4] + DAY)
    h.at(w[5], deploy("api", "prod", "a2"))
    h.build(w[5] + DAY, "shop", "b5", committed=w[5])
    h.at(w[5] + DAY + HOUR, deploy("shop", "staging", "b5"))
    h.at(w[5] + 2 * DAY, c.Promote(app="shop", env="prod", from_env="staging"))  # v8
    h.build(w[5] + 3 * DAY, "api", "a3", committed=w[5] + 2 * DAY)
    h.at(w[5] + 6 * DAY, deploy("api", "prod", "a3", strategy="canary", steps=[10, 100]))
    h.at(UNTIL + HOUR, c.ProgressRollout(app="api", env="prod", version=3, status="completed"))


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: the series is computed above the views, the same on either store."""
    return "sqlite"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerServer]:
    """The server on a store that already holds the six weeks."""
    workdir = tmp_path_factory.mktemp("ledger-dora-weeks")
    store = LedgerStore(Settings(data_dir=workdir / "data"))
    try:
        write_history(History(store))
    finally:
        store.close()
    with running(server_environ(workdir / "data"), workdir) as server:
        yield server


def series(api: Api, **query: object) -> dict[str, Any]:
    found: dict[str, Any] = api.read("/v1/dora/weeks", **query)
    return found


def week_of_dora(api: Api, until: str, **query: object) -> Any:
    return api.read("/v1/dora", days=7, until=until, **query)["metrics"]


@pytest.mark.parametrize("include_config", ["false", "true"])
def test_every_week_is_what_dora_says_of_that_week(api: Api, include_config: str) -> None:
    for scope in SCOPES:
        query = {**scope, "include_config": include_config}
        answer = series(api, weeks=6, until=UNTIL.isoformat(), **query)
        assert (answer["app"], answer["env"]) == (scope.get("app"), scope.get("env"))
        assert answer["include_config"] is (include_config == "true")
        weeks = answer["weeks"]
        assert [w["until"] for w in weeks] == [
            (START + n * WEEK).strftime("%Y-%m-%dT%H:%M:%SZ") for n in range(1, 7)
        ]
        for week in weeks:
            assert week["metrics"] == week_of_dora(api, week["until"], **query), (scope, week)


def test_a_week_counts_what_happened_in_it_alone(api: Api) -> None:
    """As /v1/dora of each week says (compared above), spelled out: a deploy rolled back in
    the next week fails in neither; drift counts in each week for the time it lasted in it."""
    until = UNTIL.isoformat()
    shop = [
        w["metrics"] for w in series(api, weeks=6, until=until, app="shop", env="prod")["weeks"]
    ]
    assert (shop[2]["deployments"], shop[2]["failed_deployments"]) == (1, 0)  # v4, on Sunday
    assert (shop[3]["rollbacks"], shop[3]["failed_deployments"]) == (1, 1)  # the aborted canary
    assert shop[3]["time_drifted_seconds"] == 5 * DAY.total_seconds()
    assert shop[4]["time_drifted_seconds"] == DAY.total_seconds()
    api_prod = series(api, weeks=6, until=until, app="api", env="prod")["weeks"]
    assert [w["metrics"]["deployments"] for w in api_prod][3:] == [0, 0, 2]  # one at 00:00:00


def test_by_default_the_series_is_twelve_weeks_to_the_next_utc_midnight(api: Api) -> None:
    before = datetime.now(UTC)
    answer = series(api)
    after = datetime.now(UTC)
    ends = {(t.replace(hour=0, minute=0, second=0, microsecond=0) + DAY) for t in (before, after)}
    weeks = answer["weeks"]
    assert len(weeks) == 12 and (answer["app"], answer["env"]) == (None, None)
    assert weeks[-1]["until"] in {end.strftime("%Y-%m-%dT%H:%M:%SZ") for end in ends}
    assert weeks[-1]["metrics"] == week_of_dora(api, weeks[-1]["until"])
    assert series(api, weeks=1)["weeks"] == weeks[-1:]  # the same window on a second call


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"weeks": "0"}, "weeks"),
        ({"weeks": "53"}, "weeks"),
        ({"weeks": "twelve"}, "weeks"),
        ({"weeks": ""}, "weeks"),
        ({"until": "last tuesday"}, "until"),
        ({"until": "0001-03-01T00:00:00Z", "weeks": "52"}, "until"),  # begins before year 1
        ({"include_config": "yes please"}, "include_config"),
        ({"app": "Not A Name"}, "app"),
        ({"env": "prod/eu"}, "env"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    api: Api, query: dict[str, str], field: str
) -> None:
    answer = api.get("/v1/dora/weeks", **query)
    assert answer.status == 422, answer
    assert answer.content_type == "application/problem+json"
    assert [e["field"] for e in answer.json["errors"]] == [field]


def test_the_series_is_documented(api: Api) -> None:
    document = api.read("/openapi.json")
    operation = document["paths"]["/v1/dora/weeks"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/DoraWeeks"}
    assert {"weeks", "until", "app", "env", "include_config"} <= {
        p["name"] for p in operation["parameters"]
    }
