"""The rollback command: a new release with an earlier release's build and config."""

from __future__ import annotations

from typing import Any

import click

from ledger.cli import gate_text, render
from ledger.cli.client import LedgerClient, ProblemError, env_path
from ledger.cli.options import NAME, TEXT


@click.command()
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.option(
    "--to",
    "to_version",
    type=click.IntRange(min=1),
    metavar="N",
    help="Release to roll back to (default: the last good one before the current).",
)
@click.option("--reason", type=TEXT, required=True, help="Why; recorded with the rollback.")
@click.option(
    "--force", is_flag=True, help="Roll back even across irreversible migrations (recorded)."
)
def rollback(app: str, env: str, to_version: int | None, reason: str, force: bool) -> None:
    """Roll APP's ENV back: a new release with release N's build and config.

    Nothing is deleted. A rollback to a release older than an irreversible migration is refused
    unless --force is given. Where the policy wants approvals for rollbacks, the rollback
    waits as a change request: its id is printed (exit code 0), and the last approval makes
    the release (`ledger approve ID`).

    \b
    Examples:
      ledger rollback shop prod --reason "checkout errors after v42"
      ledger rollback shop prod --to 40 --reason "bad config" --force
    """
    body: dict[str, Any] = {"reason": reason}
    if to_version is not None:
        body["to_version"] = to_version
    if force:
        body["force"] = True
    try:
        reply = LedgerClient.from_env().post(env_path(app, env) + "/rollback", body)
    except ProblemError as error:
        if error.status != 409:
            raise
        raise click.ClickException(_refusal(error, force)) from None
    written = reply.json()
    if reply.status == 202:
        click.echo(waiting_for_approval(written))
        return
    click.echo(f"rolled back {app}/{env}: {render.release_line(written.get('release'))}")
    click.echo(f"position {written.get('position')}")


def waiting_for_approval(written: dict[str, Any]) -> str:
    """What a change answered with 202 says: the request it made, and what it waits for."""
    request = written.get("request") or {}
    return (
        f"waiting for approval: {gate_text.request_line(request)}\n"
        f"approve it with: ledger approve {request.get('id')}\n"
        f"position {written.get('position')}"
    )


def _refusal(error: ProblemError, force: bool) -> str:
    message = f"rollback refused: {error.detail}"
    migrations = [str(m) for m in error.problem.get("migrations") or []]
    missing = [m for m in migrations if m not in message]
    if missing:
        message += f" (blocking migrations: {', '.join(missing)})"
    if migrations and not force:
        message += " — rerun with --force to override"
    return message
