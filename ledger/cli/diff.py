"""The diff command: what changes between two releases, or between two environments now."""

from __future__ import annotations

import click

from ledger.cli import render
from ledger.cli.client import LedgerClient, env_path, segment
from ledger.cli.options import NAME, json_option, print_json


@click.command()
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.argument("a", type=click.IntRange(min=1), required=False)
@click.argument("b", type=click.IntRange(min=1), required=False)
@click.option(
    "--against-env",
    type=NAME,
    metavar="ENV2",
    help="Instead of two releases: what differs from ENV now to ENV2 now.",
)
@json_option
def diff(
    app: str, env: str, a: int | None, b: int | None, against_env: str | None, as_json: bool
) -> None:
    """Show what changes from release A to release B of APP in ENV (either order): build and
    commit, config keys added, removed or changed (secret values never shown), flags, and the
    migrations applied in between.

    \b
    Examples:
      ledger diff shop prod 41 42
      ledger diff shop prod 42 40          # across a rollback, backwards
      ledger diff shop prod --against-env staging
    """
    client = LedgerClient.from_env()
    if against_env is not None:
        if a is not None:
            raise click.UsageError("give either releases A B or --against-env, not both")
        reply = client.get(env_path(app, env) + "/diff", {"against_env": against_env})
    elif a is None or b is None:
        raise click.UsageError("give two releases A B, or --against-env ENV2")
    else:
        reply = client.get(f"{env_path(app, env)}/releases/{segment(a)}/diff/{segment(b)}")
    if as_json:
        print_json(reply.text)
    else:
        render.diff(reply.json())
