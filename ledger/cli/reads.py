"""Read commands: current state, change history, releases."""

from __future__ import annotations

import click

from ledger.cli import render
from ledger.cli.client import LedgerClient, env_path
from ledger.cli.options import NAME, TEXT, TIMESTAMP, history_filters, json_option, print_json


@click.command()
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.option("--at", type=TIMESTAMP, help="Show the state as it was at this RFC 3339 time.")
@click.option(
    "--release",
    type=click.IntRange(min=1),
    metavar="N",
    help="Show the state right after release N was made.",
)
@click.option(
    "--position",
    type=click.IntRange(min=1),
    metavar="P",
    help="Show the state as it was when the log ended at position P.",
)
@json_option
def state(
    app: str, env: str, at: str | None, release: int | None, position: int | None, as_json: bool
) -> None:
    """Show what runs in APP's ENV: release, config (secrets redacted), flags, schema version.

    With --at, --release or --position (one of them), the state as it was then, replayed from
    the events.

    \b
    Examples:
      ledger state shop prod
      ledger state shop prod --at 2024-05-07T14:03:00Z
      ledger state shop prod --release 41
    """
    point = {"at": at, "release": release, "position": position}
    given = [f"--{name}" for name, value in point.items() if value is not None]
    if len(given) > 1:
        raise click.UsageError(
            f"give one of --at, --release, --position, not {' and '.join(given)}"
        )
    reply = LedgerClient.from_env().get(env_path(app, env), point)
    if as_json:
        print_json(reply.text)
    else:
        render.state(reply.json())


@click.command()
@history_filters
@click.option(
    "-q", "--query", "text", type=TEXT, help="Only changes whose summary or data mention TEXT."
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many changes.",
)
@click.option("--cursor", type=TEXT, help="Continue with the older page this cursor names.")
@json_option
def history(
    app: str | None,
    env: str | None,
    kind: str | None,
    actor: str | None,
    actor_kind: str | None,
    via: str | None,
    correlation_id: str | None,
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
      ledger history --actor-kind human --via cli
      ledger history --correlation-id run-1234
    """
    query = {
        "app": app,
        "env": env,
        "kind": kind,
        "actor": actor,
        "actor_kind": actor_kind,
        "via": via,
        "correlation_id": correlation_id,
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
