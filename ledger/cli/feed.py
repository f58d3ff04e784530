"""The feed command: follow the change feed (GET /v1/feed, Server-Sent Events), one line a
change, reconnecting after a drop with Last-Event-ID so that nothing is missed or repeated."""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import click

from ledger.cli.client import LedgerClient, ProblemError, Unreachable
from ledger.cli.options import KINDS, NAME, TEXT

MAX_WAIT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 45.0  # the server pings every 15 s: silence this long is a dead link


def events(response: http.client.HTTPResponse) -> Iterator[dict[str, str]]:
    """The server-sent events of a stream, each as its fields (comments are skipped)."""
    fields: dict[str, str] = {}
    for raw in response:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if "data" in fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = f"{fields[name]}\n{value}" if name in fields else value


def line_of(item: dict[str, Any]) -> str:
    moment = datetime.fromisoformat(item["recorded_at"]).astimezone()
    return f"{moment:%Y-%m-%d %H:%M:%S}  #{item['position']:<6} {item['summary']}"


class Follower:
    """Follows the feed from a position, printing each change once."""

    def __init__(self, client: LedgerClient, query: dict[str, Any], as_json: bool) -> None:
        self.client = client
        self.query = query
        self.as_json = as_json
        self.position: int | None = query.pop("after", None)

    def follow_once(self) -> None:
        """One connection, until the server or the network ends it."""
        headers = {"Accept": "text/event-stream"}
        if self.position is not None:
            headers["Last-Event-ID"] = str(self.position)
        with self.client.stream("/v1/feed", self.query, headers) as response:
            for event in events(response):
                if event.get("event", "message") != "change":
                    continue
                self.show(json.loads(event["data"]))

    def show(self, item: dict[str, Any]) -> None:
        if self.position is not None and item["position"] <= self.position:
            return
        self.position = item["position"]
        click.echo(json.dumps(item) if self.as_json else line_of(item))
        sys.stdout.flush()  # a pipe (| grep, a log) sees each change when it happens


@click.command()
@click.option("--app", type=NAME, help="Only changes of this app.")
@click.option("--env", type=NAME, help="Only changes in this environment.")
@click.option("--kind", type=click.Choice(KINDS), help="Only changes of this kind.")
@click.option("--actor", type=TEXT, help="Only changes made by this actor.")
@click.option("--after", type=click.IntRange(min=0), help="Start after this position.")
@click.option("--json", "as_json", is_flag=True, help="Print each change as its JSON.")
def feed(as_json: bool, **query: Any) -> None:
    """Follow the change feed live, one line a change, until interrupted (Ctrl-C).

    Starts from now (or after --after); a dropped connection is resumed where it stopped.

    \b
    Examples:
      ledger feed
      ledger feed --app shop --env prod
      ledger feed --kind rollback --json
    """
    client = LedgerClient.from_env()
    client.timeout = READ_TIMEOUT_SECONDS
    follower = Follower(client, {k: v for k, v in query.items() if v is not None}, as_json)
    if follower.position is None:  # a definite start, so that a reconnect misses nothing
        newest = client.get("/v1/history", {"limit": 1}).json()["items"]
        follower.position = newest[0]["position"] if newest else 0
    wait = 1.0
    try:
        while True:
            try:
                follower.follow_once()
                wait = 1.0
                reason = "the server ended the stream"
            except ProblemError as error:
                if error.status < 500:
                    raise
                reason = str(error)
            except (Unreachable, OSError, http.client.HTTPException) as error:
                reason = str(error) or type(error).__name__
            click.echo(
                f"feed interrupted ({reason}); resuming after #{follower.position} in {wait:g}s",
                err=True,
            )
            time.sleep(wait)
            wait = min(wait * 2, MAX_WAIT_SECONDS)
    except KeyboardInterrupt:
        return
