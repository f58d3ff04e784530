"""`ledger import FILE`: bulk-load commands (NDJSON) through POST /v1/events:batch."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.cli.client import LedgerClient

Record = tuple[int, dict[str, Any]]  # the line number in the file, the command


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--chunk",
    type=click.IntRange(1, 10_000),
    default=1000,
    show_default=True,
    help="Commands per request.",
)
@click.option(
    "--skip",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Start after line N of FILE (the line an interrupted import names).",
)
def import_file(file: Path, chunk: int, skip: int) -> None:
    """Send the commands of FILE (NDJSON: one {"op": …, …} per line) in batches.

    Each line is answered on its own; a line that is not a JSON object, and a command the ledger
    refuses, is listed on stderr with its line number, and the exit code is 1 when any was. A
    change the policy makes wait for approval is listed with its change request's id.

    Re-running is safe: each command is sent with an idempotency key made from its line (or its
    own "idempotency_key"), so a command imported before is answered as it was the first time
    and appended once. An interrupted import names the line to resume after with --skip N,
    which saves re-sending what was imported already.
    """
    records, refused = _records(file.read_bytes(), skip)
    total = len(records) + len(refused)
    client = LedgerClient.from_env()
    replayed = 0
    waiting: list[tuple[int, str]] = []
    with _progress() as progress:
        task = progress.add_task("importing", total=len(records))
        for start in range(0, len(records), chunk):
            part = records[start : start + chunk]
            results = _send(client, part, done_up_to=records[start - 1][0] if start else skip)
            refused += [(part[r["index"]][0], r["problem"]) for r in results if "problem" in r]
            replayed += sum(1 for r in results if r.get("result", {}).get("replayed"))
            waiting += [(part[r["index"]][0], r["result"]["request"]["id"]) for r in results
                        if r.get("status") == 202]  # fmt: skip
            progress.update(task, advance=len(part))
    for line, request_id in waiting:
        click.echo(f"line {line}: waits for approval as change request {request_id}", err=True)
    _report(total, refused, replayed)


def _records(data: bytes, skip: int) -> tuple[list[Record], list[tuple[int, Any]]]:
    """The commands after line ``skip``, each with its idempotency key, and the lines that are
    not JSON objects (refused with status 400)."""
    records: list[Record] = []
    malformed: list[tuple[int, Any]] = []
    for number, line, key in _keyed_lines(data):
        if number <= skip:
            continue
        try:
            command = json.loads(line)
        except json.JSONDecodeError as error:
            command = f"not JSON ({error.msg} at column {error.colno})"
        except UnicodeDecodeError:
            command = "not UTF-8 text"
        if not isinstance(command, dict):
            detail = command if isinstance(command, str) else "not a JSON object"
            malformed.append((number, {"status": 400, "detail": f"{detail}: nothing was sent"}))
            continue
        command.setdefault("idempotency_key", key)
        records.append((number, command))
    return records, malformed


def _keyed_lines(data: bytes) -> Iterator[tuple[int, bytes, str]]:
    """Each non-blank line with its number and a key made from its content (and how many
    identical lines came before it, so that repeated commands stay distinct)."""
    seen: Counter[bytes] = Counter()
    for number, raw in enumerate(data.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        digest = hashlib.sha256(line).hexdigest()[:32]
        yield number, line, f"import:{digest}:{seen[line]}"
        seen[line] += 1


def _send(client: LedgerClient, part: list[Record], *, done_up_to: int) -> list[dict[str, Any]]:
    """The per-item answers of one batch; a batch that fails as a whole stops the import,
    naming where to resume."""
    body = b"\n".join(json.dumps(command).encode() for _, command in part)
    try:
        answer = client.post_ndjson("/v1/events:batch", body).json()
    except click.ClickException:
        resume = f"ledger import --skip {done_up_to} FILE"
        click.echo(f"stopped before line {part[0][0]}: resume with `{resume}`", err=True)
        raise
    results: list[dict[str, Any]] = answer["results"]
    return results


def _report(total: int, refused: list[tuple[int, Any]], replayed: int) -> None:
    for line, problem in sorted(refused, key=lambda r: r[0]):
        click.echo(f"line {line}: {problem['status']} {problem['detail']}", err=True)
    before = f" ({replayed} imported before)" if replayed else ""
    click.echo(f"imported {total - len(refused)} of {total} commands{before}")
    if refused:
        raise SystemExit(1)


def _progress() -> Progress:
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True))
