"""The way of every write command to the ledger: one request, sent with the idempotency key and
the correlation id of the CI run it runs in, and its answer said in a line or two."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from ledger.cli import ci_env, gate_text
from ledger.cli.client import LedgerClient, Reply
from ledger.cli.options import print_json
from ledger.cli.render import when

F = TypeVar("F", bound=Callable[..., Any])
Said = Callable[[Mapping[str, Any]], str]
"""The first line a write prints once made, from the ledger's answer."""


@dataclass(frozen=True)
class Write:
    """One request of a write command: the route, the body, and what its default idempotency
    key is made of when that is not the body (a config change leaves secret values out)."""

    method: str
    path: str
    body: Mapping[str, Any]
    keyed: Mapping[str, Any] | None = None

    def request(self) -> dict[str, Any]:
        return {"path": self.path, "body": self.body if self.keyed is None else self.keyed}


class IdempotencyKeyType(click.ParamType[str]):
    """An Idempotency-Key: 1 to 128 printable ASCII characters, not starting with a space."""

    name = "key"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not ci_env.HEADER_VALUE.fullmatch(text):
            self.fail(f"{text!r}: a key is 1 to 128 printable ASCII characters", param, ctx)
        return text


def write_options(command: F) -> F:
    """--idempotency-key and --json: the options every write command has."""
    key = click.option(
        "--idempotency-key",
        type=IdempotencyKeyType(),
        help="Record the command once per key: a repeat is answered as the first time, "
        "marked (replayed). Default in CI: the run, its attempt, the command and its "
        "arguments; none outside CI.",
    )
    raw = click.option("--json", "as_json", is_flag=True, help="Print the raw JSON answer.")
    return key(raw(command))


def send(write: Write, idempotency_key: str | None) -> Reply:
    """The ledger's answer to the write, sent with the key (given, or the CI run's) and the
    run's correlation id; a refusal ends the command as for any client command."""
    run = ci_env.detect()
    headers: dict[str, str] = {}
    if idempotency_key is None and run is not None:
        idempotency_key = run.idempotency_key(_command_name(), write.request())
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    if run is not None and run.correlation_id is not None:
        headers["X-Ledger-Correlation-Id"] = run.correlation_id
    client = LedgerClient.from_env()
    if write.method == "PUT":
        return client.put(write.path, write.body, headers)
    return client.post(write.path, write.body, headers)


def _command_name() -> str:
    """``deploy``, ``build-record``: the command, as its idempotency key names it."""
    return "-".join(click.get_current_context().command_path.split()[1:])


def report(reply: Reply, as_json: bool, said: Said) -> None:
    """The answer: raw with --json; else what was made (or the change request it waits as),
    marked (replayed) when the ledger answered a repeat, then the position."""
    if as_json:
        print_json(reply.text)
        return
    written = reply.json()
    replayed = " (replayed)" if written.get("replayed") else ""
    if reply.status == 202:
        request = written.get("request") or {}
        click.echo(f"{waits(request)}{replayed}")
        click.echo(f"approve it with: ledger approve {request.get('id')} ({_until(request)})")
        return
    click.echo(f"{said(written)}{replayed}")
    click.echo(f"position {written.get('position')}")


def waits(request: Mapping[str, Any]) -> str:
    """``waits for approval: change request <id> (2 approvals)``."""
    return f"waits for approval: change request {request.get('id')} ({gate_text.waiting(request)})"


def _until(request: Mapping[str, Any]) -> str:
    return f"{gate_text.subject(request)}, until {when(request.get('expires_at'))}"
