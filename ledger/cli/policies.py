"""`ledger policy`: the gates of an environment, recorded as events and read back."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ledger.cli import gate_text
from ledger.cli.client import LedgerClient, env_path
from ledger.cli.options import NAME, POLICY_APP, TEXT, TIMESTAMP, json_option, print_json


@click.group()
def policy() -> None:
    """Show and set the policy of an environment: protection, promotion path, approvals,
    freeze windows and required evidence.

    APP may be `*`: the level every app inherits (quote it in a shell). An app's level
    overrides `*`'s field by field, which overrides the ledger's defaults
    (LEDGER_PROTECTED_ENVS, LEDGER_PROMOTION_PATH).
    """


@policy.command("show")
@click.argument("app", type=POLICY_APP)
@click.argument("env", type=NAME)
@click.option("--at", type=TIMESTAMP, help="The policy as it was at this RFC 3339 time.")
@json_option
def show(app: str, env: str, at: str | None, as_json: bool) -> None:
    """Show the policy in force for APP in ENV (every level resolved), whether a freeze is in
    force, and what APP's own level records.

    \b
    Examples:
      ledger policy show shop prod
      ledger policy show '*' prod --at 2024-05-07T14:03:00Z
    """
    reply = LedgerClient.from_env().get(env_path(app, env) + "/policy", {"at": at})
    if as_json:
        print_json(reply.text)
    else:
        gate_text.policy(reply.json())


@policy.command("set")
@click.argument("app", type=POLICY_APP)
@click.argument("env", type=NAME)
@click.option(
    "--file",
    "source",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The policy document (JSON), or - for stdin.",
)
@click.option("--reason", type=TEXT, required=True, help="Why; recorded with the change.")
def set_policy(app: str, env: str, source: str, reason: str) -> None:
    """Record the policy of APP's level in ENV (needs the admin scope).

    The file holds the policy document, e.g.

    \b
      {"approvals": {"required": 1}, "required_evidence": ["tests"],
       "freeze": [{"name": "weekend", "cron": "0 18 * * 5", "duration": "62h",
                   "timezone": "Europe/Berlin"}]}

    A field left out is inherited from `*` (or the defaults); null or [] says "none here".
    The document replaces this level's previous one as a whole.

    \b
    Examples:
      ledger policy set shop prod --file prod-policy.json --reason "two eyes on prod"
      echo '{"protected": true}' | ledger policy set '*' prod --file - --reason "CI only"
    """
    document = _document(source)
    body = {"reason": reason, "policy": document}
    written = LedgerClient.from_env().put(env_path(app, env) + "/policy", body).json()
    where = "every app" if app == "*" else app
    click.echo(f"set the policy of {where} in {env}")
    click.echo(f"position {written.get('position')}")


def _document(source: str) -> dict[str, Any]:
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as file:
                text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"--file {source}: {_why(error)}") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise click.ClickException(f"--file {source}: not JSON ({error})") from None
    if not isinstance(document, dict):
        raise click.ClickException(f"--file {source}: the policy must be a JSON object")
    return document


def _why(error: OSError | UnicodeDecodeError) -> str:
    if isinstance(error, OSError):
        return str(error.strerror or error)
    return "not UTF-8 text"


@policy.command("windows")
@click.argument("app", type=POLICY_APP)
@click.argument("env", type=NAME)
@click.option("--from", "since", type=TIMESTAMP, help="From this time (default: now).")
@click.option("--to", "until", type=TIMESTAMP, help="Until this time (default: 30 days on).")
@json_option
def windows(app: str, env: str, since: str | None, until: str | None, as_json: bool) -> None:
    """List when APP's ENV is frozen between --from and --to (at most 366 days).

    \b
    Examples:
      ledger policy windows shop prod
      ledger policy windows shop prod --from 2024-12-01T00:00:00Z --to 2025-01-31T00:00:00Z
    """
    query = {"from": since, "to": until}
    reply = LedgerClient.from_env().get(env_path(app, env) + "/policy/windows", query)
    if as_json:
        print_json(reply.text)
    else:
        gate_text.windows(reply.json())
