"""`ledger bench` (also `python -m ledger.bench`): measure the ledger against raw PostgreSQL and
NATS on this machine. Defined with the benchmarks, so that they never import the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

database_url_option = click.option(
    "--database-url",
    envvar="LEDGER_BENCH_DATABASE_URL",
    required=True,
    help="Admin URL of a PostgreSQL server; the run creates (and drops) a database of its "
    "own [env LEDGER_BENCH_DATABASE_URL].",
)


@click.command()
@database_url_option
@click.option(
    "--nats-url",
    envvar="LEDGER_BENCH_NATS_URL",
    required=True,
    help="URL of a NATS server with JetStream [env LEDGER_BENCH_NATS_URL].",
)
@click.option("--quick", is_flag=True, help="Reduced sizes: a smoke test in under a minute.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON to this file.",
)
def bench(database_url: str, nats_url: str, quick: bool, json_path: Path | None) -> None:
    """Run every benchmark scenario and print a table of figures, each beside a raw reference
    measured in the same run (PostgreSQL without the ledger, NATS without the ledger).

    It starts `ledger serve` itself, on a fresh database. Progress goes to stderr, the table
    to stdout. scripts/bench provides PostgreSQL and NATS and runs it.

    \b
    Scenarios:
      1 single-event durable appends over HTTP      vs INSERT commits
      2 batch ingest (POST /v1/events:batch)        vs COPY
      3 projection rebuild of the whole log         vs scan + decode
      4 append latency at a fixed rate (open loop)  vs INSERT commits
      5 server RSS after the runs, and its growth
      6 NATS publisher catch-up and commit→subscriber latency vs plain nats-py
    """
    # on demand: the benchmarks load asyncpg, nats and aiohttp, which `ledger --help` does not
    from ledger.bench.report import print_table
    from ledger.bench.run import run

    report = asyncio.run(run(database_url, nats_url, quick=quick))
    print_table(report)
    if json_path is not None:
        report.write_json(json_path)
        click.echo(f"wrote {json_path}", err=True)
