"""`ledger flag set`: a feature flag flipped in an environment (recorded, no release)."""

from __future__ import annotations

from typing import Any

import click

from ledger.cli import writes
from ledger.cli.client import env_path, segment
from ledger.cli.options import NAME, TEXT


@click.group()
def flag() -> None:
    """Flip feature flags: recorded and visible, but no release."""


@flag.command("set")
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.argument("name", metavar="FLAG", type=TEXT)
@click.option("--on/--off", "enabled", default=None, help="Turn FLAG on, or off.")
@click.option("--percent", type=click.IntRange(0, 100), help="The share of users FLAG is on for.")
@click.option("--reason", type=TEXT, help="Why; recorded with the flip.")
@writes.write_options
def set_flag(
    app: str,
    env: str,
    name: str,
    enabled: bool | None,
    percent: int | None,
    reason: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Turn FLAG of APP in ENV on or off, for everyone or --percent of users (flag:write).

    \b
    Examples:
      ledger flag set shop prod new-checkout --on --percent 25 --reason "first users"
      ledger flag set shop prod new-checkout --off --reason "errors in checkout"
    """
    if enabled is None:
        raise click.UsageError("give --on or --off")
    body: dict[str, Any] = {"enabled": enabled}
    if percent is not None:
        body["rollout_percent"] = percent
    if reason is not None:
        body["reason"] = reason
    write = writes.Write("PUT", env_path(app, env) + f"/flags/{segment(name)}", body)
    state = ("on" if enabled else "off") + ("" if percent is None else f" for {percent}%")
    said = f"flag {name} {state} in {app}/{env}"
    writes.report(writes.send(write, idempotency_key), as_json, lambda _: said)
