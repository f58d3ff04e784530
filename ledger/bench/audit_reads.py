"""The timed reads of the audit benchmark: filtered history pages and point-in-time states of
the long environment, through the server's HTTP API, each beside its raw reference."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
import asyncpg
import msgspec

from ledger.bench import audit_load
from ledger.bench.audit_raw import Call, Params, raw_history, raw_state_call, version_of
from ledger.bench.report import Row, Ticker, say
from ledger.bench.timing import Stopwatch, milliseconds, percentile
from projections.sql import HISTORY, RELEASES

if TYPE_CHECKING:
    from ledger.bench.workload import Conn as Connection

SCENARIO_HISTORY, SCENARIO_STATE = "B history", "C point in time"
HISTORY_TARGET_MS, STATE_TARGET_MS = 10.0, 20.0
KIND_SECONDS = 20.0  # the requests of each kind stop after this long (a full scan is slow)
WARM_UP = 3  # requests of each kind made untimed first (connections, caches, plans)


class Reads:
    """Timed reads of the server at ``url``, and the same reads done raw on its database."""

    def __init__(
        self, database_url: str, url: str, session: aiohttp.ClientSession, plan: audit_load.Plan
    ) -> None:
        self.database_url, self.url, self.session, self.plan = database_url, url, session, plan
        self.rng = random.Random(7)

    def filters(self) -> dict[str, Callable[[], Params]]:
        """Kinds of history pages, each a maker of random query parameters."""
        r, app, env, plan = self.rng, audit_load.APP, audit_load.ENV, self.plan
        incidents = max(1, plan.spread // audit_load.INCIDENT_EVERY)
        runs = max(1, plan.env_events // audit_load.CONFIG_EVERY)
        return {
            f"app+env ({app}/{env})": lambda: {"app": app, "env": env},
            f"app+env+kind ({app}/{env})": lambda: {"app": app, "env": env, "kind": "config"},
            "app+env": lambda: dict(
                zip(("app", "env"), r.choice(plan.workload.environments), strict=True)
            ),
            "kind": lambda: {"kind": r.choice(("config", "flag", "app"))},
            "actor": lambda: {"actor": r.choice((*audit_load.HUMANS, "ci-bot"))},
            "q= (one incident)": lambda: {"q": f"INC-{r.randrange(incidents)}:"},
            "correlation id": lambda: {"correlation_id": f"run-{r.randrange(runs) * 10}"},
        }

    async def history(self, requests: int) -> list[Row]:
        """``GET /v1/history`` pages of each kind, beside the same SQL through asyncpg."""
        filters, rows = self.filters(), []
        ledger_all: list[float] = []
        raw_all: list[float] = []
        conn = await asyncpg.connect(self.database_url)
        try:
            for name, make in filters.items():
                params = [make() | {"limit": "50"} for _ in range(requests // len(filters))]
                ledger, _ = await _timed(f"history {name}", params, self._history)
                raw_call: Call = lambda p: raw_history(conn, p)  # noqa: E731
                raw, _ = await _timed(f"history {name} (raw)", params[: len(ledger)], raw_call)
                rows.append(_row(SCENARIO_HISTORY, f"page p99, {name}", ledger, raw, 99))
                ledger_all += ledger
                raw_all += raw
        finally:
            await conn.close()
        every = "page {}, every kind ({:,} pages)".format
        return [
            _row(SCENARIO_HISTORY, every("p50", len(ledger_all)), ledger_all, raw_all, 50, None),
            _row(SCENARIO_HISTORY, every("p99", len(ledger_all)), ledger_all, raw_all, 99),
            *rows,
        ]

    async def _history(self, params: Params) -> object:
        async with self.session.get(self.url + "/v1/history", params=params) as response:
            if response.status != 200:
                raise RuntimeError(f"history answered {response.status}: {await response.text()}")
            return await response.read()

    async def states(self, requests: int) -> list[Row]:
        """The long environment's state at random times and releases, beside its snapshot and
        events up to the same version fetched and decoded."""
        rows = []
        conn = await asyncpg.connect(self.database_url)
        try:
            for name, params in (await self._points(conn, requests // 2)).items():
                ledger, answers = await _timed(f"state {name}", params, self._state)
                versions = [await version_of(conn, _position(a)) for a in answers]
                at_versions = [{"version": str(v)} for v in versions]
                raw, _ = await _timed(f"state {name} (raw)", at_versions, raw_state_call(conn))
                figure = f"{name} p{{}}, {audit_load.APP}/{audit_load.ENV}".format
                rows.append(_row(SCENARIO_STATE, figure(50), ledger, raw, 50, None))
                rows.append(_row(SCENARIO_STATE, figure(99), ledger, raw, 99, STATE_TARGET_MS))
        finally:
            await conn.close()
        return rows

    async def _points(self, conn: Connection, count: int) -> dict[str, list[Params]]:
        """Random ?at= times and ?release= numbers of the long environment."""
        args = (audit_load.APP, audit_load.ENV)
        first = datetime.fromisoformat(await conn.fetchval(SPAN_SQL.format("ASC"), *args))
        last = datetime.fromisoformat(await conn.fetchval(SPAN_SQL.format("DESC"), *args))
        releases = await conn.fetchval(RELEASES_SQL, *args)
        span, r = last - first, self.rng
        return {
            "?at=": [{"at": (first + span * r.random()).isoformat()} for _ in range(count)],
            "?release=": [{"release": str(r.randint(1, releases))} for _ in range(count)],
        }

    async def _state(self, params: Params) -> object:
        path = f"/v1/apps/{audit_load.APP}/envs/{audit_load.ENV}"
        async with self.session.get(self.url + path, params=params) as response:
            if response.status != 200:
                raise RuntimeError(f"state answered {response.status}: {await response.text()}")
            return await response.read()


SPAN_SQL = (
    f"SELECT recorded_at FROM {HISTORY} WHERE app = $1 AND env = $2 ORDER BY position {{}} LIMIT 1"
)
RELEASES_SQL = f"SELECT max(version) FROM {RELEASES} WHERE app = $1 AND env = $2"


def _position(answer: object) -> int:
    position: int = msgspec.json.decode(answer, type=dict[str, object])["position"]  # type: ignore
    return position


async def _timed(label: str, params: list[Params], call: Call) -> tuple[list[float], list[object]]:
    """Call once per parameters, one at a time, for at most KIND_SECONDS; the latencies (s)
    and the answers."""
    for p in params[:WARM_UP]:
        await call(p)
    ticker, watch = Ticker(label, len(params)), Stopwatch()
    latencies: list[float] = []
    answers: list[object] = []
    for p in params:
        started = time.perf_counter()
        answers.append(await call(p))
        latencies.append(time.perf_counter() - started)
        ticker(len(latencies))
        if watch.seconds > KIND_SECONDS:
            say(f"{label}: stopped after {len(latencies):,} requests ({KIND_SECONDS:.0f} s)")
            break
    return latencies, answers


def _row(
    scenario: str,
    figure: str,
    ledger: list[float],
    raw: list[float],
    p: int,
    target_ms: float | None = HISTORY_TARGET_MS,
) -> Row:
    value = milliseconds(percentile(ledger, p))
    met = None if target_ms is None else value <= target_ms
    return Row(
        scenario=scenario,
        figure=figure,
        value=value,
        unit="ms",
        reference=milliseconds(percentile(raw, p)),
        reference_of=RAW_OF[scenario],
        target=None if target_ms is None else f"p99 ≤ {target_ms:.0f} ms",
        met=met,
    )


RAW_OF = {
    SCENARIO_HISTORY: "the same SQL through asyncpg",
    SCENARIO_STATE: "asyncpg: moment snapshot + events to that version, msgspec decode",
}
