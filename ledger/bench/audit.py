"""The audit benchmark: reads of a large log (filtered history pages, point-in-time states of a
long environment) and `ledger verify`, each beside a raw reference measured in the same run.

Run on its own: ``python -m ledger.bench.audit --database-url ADMIN_URL``. It loads a fresh
database (``ledger.bench.audit_load``), starts `ledger serve` on it for the HTTP figures, and
drops the database at the end. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import asyncpg
import click
import msgspec
from eventsourcing.utils import resolve_topic

from ledger.application import LedgerStore
from ledger.audit.verifier import verify_log
from ledger.bench import audit_load
from ledger.bench.report import Report, Row, Ticker, print_table, say
from ledger.bench.run import machine
from ledger.bench.server import LedgerProcess, fresh_database
from ledger.bench.timing import Stopwatch, milliseconds, percentile
from ledger.cli.bench import database_url_option
from ledger.domain.events import Snapshot
from ledger.domain.moments import moment_from, moment_id
from ledger.domain.names import environment_id
from ledger.settings import Settings
from ledger.store import decoder_of
from projections.queries import HistoryQuery, history_sql
from projections.sql import HISTORY, RELEASES

if TYPE_CHECKING:
    from ledger.bench.workload import Conn as Connection

EVENTS, ENV_EVENTS = 1_000_000, 100_000
QUICK_EVENTS, QUICK_ENV_EVENTS = 20_000, 5_000


async def run_audit(database_url: str, events: int, env_events: int) -> list[Row]:
    """Load ``events`` events (``env_events`` in one environment) into the fresh, empty
    database at ``database_url``, build its views and checkpoint, then measure."""
    plan = audit_load.Plan(events, env_events)
    rows = await audit_load.load(database_url, plan)
    rows += await audit_load.build_views(database_url)
    small = events < 100_000
    with tempfile.TemporaryDirectory(prefix="ledger-bench-audit-") as workdir:
        server = LedgerProcess(database_url, None, Path(workdir))
        await server.start()
        try:
            async with aiohttp.ClientSession() as session:
                await server.settle(session)
                await _checkpointer_ready(session, server.url)
                reads = Reads(database_url, server.url, session, plan)
                rows += await reads.history(requests=210 if small else 2_100)
                rows += await reads.states(requests=60 if small else 600)
        except BaseException:
            say(f"server log:\n{server.log_tail()}")
            raise
        finally:
            await server.stop()
    rows += await verify(database_url)
    return rows


CHECKPOINTER_LAG = re.compile(rb'^ledger_follower_lag\{follower="checkpointer"\} (\S+)$', re.M)


async def _checkpointer_ready(session: aiohttp.ClientSession, url: str) -> None:
    """Wait until the new server's checkpointer has loaded the tree (it reads every leaf once
    at start, and would compete with the reads measured next)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        async with session.get(url + "/metrics") as response:
            found = CHECKPOINTER_LAG.search(await response.read())
        if found is not None and float(found.group(1)) == 0:
            return
        say("waiting for the checkpointer to load the tree")
        await asyncio.sleep(2)
    raise TimeoutError("the checkpointer did not load the tree in 10 minutes")


SCENARIO_HISTORY, SCENARIO_STATE, SCENARIO_VERIFY = "B history", "C point in time", "D verify"
HISTORY_TARGET_MS, STATE_TARGET_MS, VERIFY_TARGET = 10.0, 20.0, 100_000.0
KIND_SECONDS = 20.0  # the requests of each kind stop after this long (a full scan is slow)
WARM_UP = 3  # requests of each kind made untimed first (connections, caches, plans)
SNAPSHOT_SQL = (
    "SELECT originator_version, state FROM ledger_snapshots WHERE originator_id = $1 "
    "AND originator_version <= $2 ORDER BY originator_version DESC LIMIT 1"
)
EVENTS_SQL = (
    "SELECT topic, state FROM ledger_events WHERE originator_id = $1 "
    "AND originator_version > $2 AND originator_version <= $3 ORDER BY originator_version"
)
Params = dict[str, str]
Call = Callable[[Params], Awaitable[object]]


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
                raw_call: Call = lambda p: _raw_history(conn, p)  # noqa: E731
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
                versions = [await _version_of(conn, _position(a)) for a in answers]
                at_versions = [{"version": str(v)} for v in versions]
                raw, _ = await _timed(f"state {name} (raw)", at_versions, _raw_state_call(conn))
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


async def _version_of(conn: Connection, position: int) -> int:
    version: int = await conn.fetchval(
        "SELECT originator_version FROM ledger_events WHERE notification_id = $1", position
    )
    return version


async def _raw_history(conn: Connection, params: Params) -> object:
    statement, args = history_sql(msgspec.convert(params, HistoryQuery, strict=False))
    return await conn.fetch(statement, *args)


def _raw_state_call(conn: Connection) -> Call:
    """The raw read of the state at ``params["version"]``."""
    return lambda params: _raw_state(conn, int(params["version"]))


async def _raw_state(conn: Connection, version: int) -> object:
    """Fetch and decode what a state at ``version`` is made of: the moment snapshot at or
    below it, and the stored events after the snapshot up to it."""
    stream = environment_id(audit_load.APP, audit_load.ENV)
    snapshot = await conn.fetchrow(SNAPSHOT_SQL, moment_id(stream), version)
    after = 0
    if snapshot is not None:
        moment_from(decoder_of(Snapshot).decode(snapshot["state"]))
        after = snapshot["originator_version"]
    events = await conn.fetch(EVENTS_SQL, stream, after, version)
    return [decoder_of(resolve_topic(e["topic"])).decode(e["state"]) for e in events]


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


async def verify(database_url: str) -> list[Row]:
    """`ledger verify` (its verifier, in this process) with one and two jobs, beside a raw
    scan of the events table that hashes every row."""
    settings = Settings(database_url=database_url)
    store = await asyncio.to_thread(LedgerStore, settings)
    rows = []
    try:
        head = await asyncio.to_thread(store.head)
        for jobs in (1, 2):
            events, rate = await asyncio.to_thread(_verified, store, head, jobs)
            rows.append((jobs, events, rate))
    finally:
        store.close()
    raw = await raw_hash_rate(database_url, head)
    return [
        Row(
            scenario=SCENARIO_VERIFY,
            figure=f"ledger verify --jobs {jobs}, {events:,} events and every checkpoint",
            value=rate,
            unit="events/s",
            reference=raw,
            reference_of="asyncpg scan + SHA-256 of each row",
            target=f"≥ {VERIFY_TARGET:,.0f} events/s",
            met=rate >= VERIFY_TARGET,
        )
        for jobs, events, rate in rows
    ]


def _verified(store: LedgerStore, head: int, jobs: int) -> tuple[int, float]:
    """Verify the whole log with ``jobs`` jobs; (events, events/s). Fails on any problem."""
    ticker = Ticker(f"verify --jobs {jobs}", head)
    report = verify_log(store, None, lambda done, _: ticker(done), jobs=jobs)
    if not report.ok or report.uncovered:
        raise RuntimeError(f"verify found problems: {report.problems[:3]} {report.warnings}")
    rate = report.events / max(report.seconds, 1e-9)
    say(f"verify --jobs {jobs}: {report.events:,} events at {rate:,.0f} events/s")
    return report.events, rate


async def raw_hash_rate(database_url: str, total: int) -> float:
    """Read every stored event in order with a cursor and SHA-256 its row; events/s."""
    conn = await asyncpg.connect(database_url)
    try:
        ticker, watch, count = Ticker(f"{SCENARIO_VERIFY} (raw)", total), Stopwatch(), 0
        async with conn.transaction():
            query = (
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM ledger_events ORDER BY notification_id"
            )
            async for record in conn.cursor(query, prefetch=5_000):
                hashlib.sha256(record["state"]).digest()
                count += 1
                if count % 5_000 == 0:
                    ticker(count)
        return watch.rate(count)
    finally:
        await conn.close()


async def _standalone(admin_url: str, events: int, env_events: int) -> Report:
    sizes: dict[str, object] = {"events": events, "env_events": env_events}
    report = Report(machine=await machine(admin_url), sizes=sizes)
    say(f"audit benchmark: {sizes}")
    started = time.monotonic()
    async with fresh_database(admin_url) as database_url:
        report.add(*await run_audit(database_url, events, env_events))
    report.notes.append(f"whole run: {time.monotonic() - started:,.0f} s")
    return report


def _sized(quick: bool, given: int | None, full: int, reduced: int) -> int:
    return given if given is not None else reduced if quick else full


@click.command()
@database_url_option
@click.option("--events", type=click.IntRange(min=1000), help=f"Events to load [{EVENTS:,}].")
@click.option(
    "--env-events",
    type=click.IntRange(min=100),
    help=f"Events of the one long environment [{ENV_EVENTS:,}].",
)
@click.option(
    "--quick",
    is_flag=True,
    help=f"Reduced sizes ({QUICK_EVENTS:,} / {QUICK_ENV_EVENTS:,}) unless given.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON to this file.",
)
def main(
    database_url: str,
    events: int | None,
    env_events: int | None,
    quick: bool,
    json_path: Path | None,
) -> None:
    """Measure the audit reads on a large log: filtered history pages, point-in-time states
    of one long environment, and `ledger verify`, each beside a raw reference.

    \b
    Targets (with 1,000,000 events, 100,000 of them in one environment):
      filtered history page p99 ≤ 10 ms      vs the same SQL through asyncpg
      point-in-time state p99 ≤ 20 ms        vs moment snapshot + events fetched, decoded
      ledger verify ≥ 100,000 events/s       vs asyncpg scan + SHA-256 of each row
    """
    total = _sized(quick, events, EVENTS, QUICK_EVENTS)
    long = _sized(quick, env_events, ENV_EVENTS, QUICK_ENV_EVENTS)
    if long >= total:
        raise click.BadParameter("must be less than --events", param_hint="--env-events")
    report = asyncio.run(_standalone(database_url, total, long))
    print_table(report)
    if json_path is not None:
        report.write_json(json_path)
        click.echo(f"wrote {json_path}", err=True)


if __name__ == "__main__":
    main()
