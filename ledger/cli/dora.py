"""The dora command: deployment frequency, lead time, change failure rate, time to restore."""

from __future__ import annotations

import click

from ledger.cli import render
from ledger.cli.client import LedgerClient, env_path
from ledger.cli.options import NAME, TIMESTAMP, json_option, print_json


@click.command()
@click.argument("app", type=NAME, required=False)
@click.argument("env", type=NAME, required=False)
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True)
@click.option("--until", type=TIMESTAMP, help="End of the window (default: now).")
@click.option("--env", "only_env", type=NAME, help="Across apps: only environments so named.")
@click.option(
    "--include-config", is_flag=True, help="Count config releases and flag flips as changes."
)
@json_option
def dora(
    app: str | None,
    env: str | None,
    days: int,
    until: str | None,
    only_env: str | None,
    include_config: bool,
    as_json: bool,
) -> None:
    """Show the DORA metrics of APP in ENV, of every environment of APP, or of every app.

    \b
    Examples:
      ledger dora shop prod --days 30
      ledger dora --env prod --days 90
    """
    query = {"days": days, "until": until, "include_config": str(include_config).lower()}
    client = LedgerClient.from_env()
    if app is not None and env is not None:
        reply = client.get(env_path(app, env) + "/dora", query)
    else:
        reply = client.get("/v1/dora", {**query, "app": app, "env": only_env})
    if as_json:
        print_json(reply.text)
    else:
        render.dora(reply.json())
