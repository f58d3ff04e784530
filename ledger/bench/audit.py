"""The audit benchmark: reads of a large log (filtered history pages, point-in-time states of a
long environment) and `ledger verify`, each beside a raw reference measured in the same run.

Run on its own: ``python -m ledger.bench.audit --database-url ADMIN_URL``. It loads a fresh
database (``ledger.bench.audit_load``), starts `ledger serve` on it for the HTTP figures, and
drops the database at the end. Progress goes to stderr, the table to stdout. The reads are
``ledger.bench.audit_reads`` (raw references: ``audit_raw``), verify is ``audit_verify``.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from pathlib import Path

import aiohttp
import click

from ledger.bench import audit_load
from ledger.bench.audit_reads import Reads
from ledger.bench.audit_verify import verify
from ledger.bench.command import database_url_option
from ledger.bench.report import Report, Row, print_table, say
from ledger.bench.run import machine
from ledger.bench.server import LedgerProcess, fresh_database

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
