"""Change requests: the changes that wait for approval, and approving or rejecting them."""

from __future__ import annotations

import re
from typing import Any

import click

from ledger.cli import gate_text, render
from ledger.cli.client import LedgerClient, Reply, segment
from ledger.cli.options import NAME, TEXT, json_option, print_json

STATUSES = ("pending", "released", "rejected", "expired", "failed", "all")
MOST = 1000
"""The most requests the ledger lists at once: how many pending ones a prefix is sought in."""
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PREFIX = re.compile(r"[0-9a-f][0-9a-f-]{7,35}")


class RequestIdType(click.ParamType[str]):
    """A change request's id, or a prefix of at least 8 characters of it."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip().lower()
        if not PREFIX.fullmatch(text):
            self.fail(
                f"{value!r} is not a request id (its first 8 characters at least, "
                "as `ledger requests` lists them)",
                param,
                ctx,
            )
        return text


REQUEST_ID = RequestIdType()


@click.command()
@click.option(
    "--status", type=click.Choice(STATUSES), default="pending", show_default=True,
    help="Only requests in this state (all: every state).",
)  # fmt: skip
@click.option("--app", type=NAME, help="Only requests of this app.")
@click.option("--env", type=NAME, help="Only requests in this environment.")
@click.option("--limit", type=click.IntRange(1, MOST), default=50, show_default=True)
@json_option
def requests(status: str, app: str | None, env: str | None, limit: int, as_json: bool) -> None:
    """List change requests, newest first: the changes waiting for approval by default.

    \b
    Examples:
      ledger requests
      ledger requests --app shop --env prod --status all
    """
    query = {"status": None if status == "all" else status, "app": app, "env": env}
    reply = LedgerClient.from_env().get("/v1/requests", query | {"limit": limit})
    if as_json:
        print_json(reply.text)
    else:
        gate_text.requests(reply.json().get("items") or [], with_status=status != "pending")


@click.command()
@click.argument("request_id", metavar="ID", type=REQUEST_ID)
@click.option("--reason", type=TEXT, help="Why; recorded with the approval.")
def approve(request_id: str, reason: str | None) -> None:
    """Approve the change request ID (the approve scope). The last approval it waits for
    makes the release, as its requester asked for it, checked against the ledger now.

    ID is the full id, or its first 8 characters or more (looked up among the pending
    requests). The requester may not approve their own request unless the policy allows
    it; a principal's second approval counts once.

    \b
    Examples:
      ledger approve 1f04ab12 --reason "checked the canary"
    """
    client = LedgerClient.from_env()
    full = resolve(client, request_id)
    body = {} if reason is None else {"reason": reason}
    reply = client.post(f"/v1/requests/{segment(full)}/approve", body)
    click.echo(_approved(reply))
    if reply.json().get("position"):
        click.echo(f"position {reply.json()['position']}")


def _approved(reply: Reply) -> str:
    written = reply.json()
    request = written.get("request") or {}
    if written.get("release"):
        return f"approved and released: {render.release_line(written['release'])}"
    if reply.status == 200:
        line = gate_text.request_line(request)
        return f"you approved it before (an approval counts once): {line}"
    return f"approved: {gate_text.request_line(request)}"


@click.command()
@click.argument("request_id", metavar="ID", type=REQUEST_ID)
@click.option("--reason", type=TEXT, required=True, help="Why; recorded with the rejection.")
def reject(request_id: str, reason: str) -> None:
    """Reject the change request ID (the approve scope): it will never be released.

    ID is the full id, or its first 8 characters or more (looked up among the pending
    requests).

    \b
    Examples:
      ledger reject 1f04ab12 --reason "not during the sale"
    """
    client = LedgerClient.from_env()
    full = resolve(client, request_id)
    written = client.post(f"/v1/requests/{segment(full)}/reject", {"reason": reason}).json()
    click.echo(f"rejected: {gate_text.request_line(written.get('request') or {})}")
    click.echo(f"position {written.get('position')}")


def resolve(client: LedgerClient, given: str) -> str:
    """The full id of the pending request ``given`` starts, when it is not a full id."""
    if UUID.fullmatch(given):
        return given
    query: dict[str, str | int | None] = {"status": "pending", "limit": MOST}
    pending = client.get("/v1/requests", query).json().get("items") or []
    found = [str(r.get("id")) for r in pending if str(r.get("id")).startswith(given)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise click.ClickException(
            f"no pending change request starts with {given!r}: see `ledger requests`, "
            "or give the full id"
        )
    raise click.ClickException(
        f"{given!r} starts {len(found)} pending requests ({', '.join(found)}): give more of the id"
    )
