"""Read commands: current state, change history, releases."""

from __future__ import annotations

import click

from ledger.cli import render
from ledger.cli.client import LedgerClient, env_path
from ledger.cli.options import KINDS, NAME, TIMESTAMP, json_option, print_json


@click.command()
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.option("--at", type=TIMESTAMP, help="Show the state as it was at this RFC 3339 time.")
@json_option
def state(app: str, env: str, at: str | None, as_json: bool) -> None:
    """Show what runs in APP's ENV: release, config (secrets redacted), flags, schema version.

    \b
    Examples:
      ledger state shop prod
      ledger state shop prod --at 2024-05-07T14:03:00Z
    """
    reply = LedgerClient.from_env().get(env_path(app, env), {"at": at})
    if as_json:
        print_json(reply.text)
    else:
        render.state(reply.json())


@click.command()
@click.option("--app", type=NAME, help="Only changes of this app.")
@click.option("--env", type=NAME, help="Only changes in this environment.")
@click.option("--kind", type=click.Choice(KINDS), help="Only changes of this kind.")
@click.option("--actor", help="Only changes made by this actor.")
@click.option("--since", type=TIMESTAMP, help="Only changes recorded at or after this time.")
@click.option("--until", type=TIMESTAMP, help="Only changes recorded before this time.")
@click.option("-q", "--query", "text", help="Only changes whose summary or data mention TEXT.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many changes.",
)
@click.option("--cursor", help="Continue with the older page this cursor names.")
@json_option
def history(
    app: str | None,
    env: str | None,
    kind: str | None,
    actor: str | None,
    since: str | None,
    until: str | None,
    text: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Show the change history, newest first: who changed what, where and when.

    \b
    Examples:
      ledger history --app shop --env prod --limit 20
      ledger history --kind rollback --since 2024-05-01T00:00:00Z
      ledger history -q DB_HOST
    """
    query = {
        "app": app,
        "env": env,
        "kind": kind,
        "actor": actor,
        "since": since,
        "until": until,
        "q": text,
        "limit": limit,
        "cursor": cursor,
    }
    reply = LedgerClient.from_env().get("/v1/history", query)
    if as_json:
        print_json(reply.text)
        return
    page = reply.json()
    render.history(page.get("items") or [])
    if page.get("next"):
        click.echo(f"older changes: repeat with --cursor {page['next']}", err=True)


@click.command()
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@json_option
def releases(app: str, env: str, as_json: bool) -> None:
    """List the releases of APP in ENV, newest first.

    \b
    Example:
      ledger releases shop prod
    """
    reply = LedgerClient.from_env().get(env_path(app, env) + "/releases")
    if as_json:
        print_json(reply.text)
    else:
        render.releases(reply.json().get("releases") or [])
