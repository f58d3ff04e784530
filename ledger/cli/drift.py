"""The drift command: every environment whose runtime is not in sync with its releases."""

from __future__ import annotations

import click

from ledger.cli.client import LedgerClient
from ledger.cli.options import NAME, json_option, print_json
from ledger.cli.render import console, table
from ledger.cli.runtime_text import runtime_line


@click.command()
@click.option("--app", type=NAME, help="Only this app.")
@click.option("--env", type=NAME, help="Only environments so named.")
@json_option
def drift(app: str | None, env: str | None, as_json: bool) -> None:
    """List the environments where what runs is not what was released: drifted (an old
    release, an unrecorded artifact), not running, or unknown (no recent report).

    \b
    Examples:
      ledger drift
      ledger drift --app shop --env prod
    """
    reply = LedgerClient.from_env().get("/v1/drift", {"app": app, "env": env})
    if as_json:
        print_json(reply.text)
        return
    items = reply.json().get("items") or []
    listed = table("APP", "ENV", "RUNTIME", wrap="RUNTIME")
    for item in items:
        listed.add_row(item["app"], item["env"], runtime_line(item.get("runtime")))
    console.print(listed if items else "every reported environment is in sync")
