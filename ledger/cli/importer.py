"""`ledger import FILE`: bulk-load commands (NDJSON) through POST /v1/events:batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.cli.client import LedgerClient


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--chunk",
    type=click.IntRange(1, 10_000),
    default=1000,
    show_default=True,
    help="Commands per request.",
)
def import_file(file: Path, chunk: int) -> None:
    """Send the commands of FILE (NDJSON: one {"op": …, …} per line) in batches.

    Each line is answered on its own; refused lines are listed on stderr with their line
    number, and the exit code is 1 when any was refused."""
    lines = [line for line in file.read_bytes().splitlines() if line.strip()]
    client = LedgerClient.from_env()
    refused: list[tuple[int, Any]] = []
    with _progress() as progress:
        task = progress.add_task("importing", total=len(lines))
        for start in range(0, len(lines), chunk):
            part = lines[start : start + chunk]
            answer = client.post_ndjson("/v1/events:batch", b"\n".join(part)).json()
            refused += [
                (start + r["index"] + 1, r["problem"]) for r in answer["results"] if "problem" in r
            ]
            progress.update(task, advance=len(part))
    for line, problem in refused:
        click.echo(f"line {line}: {problem['status']} {problem['detail']}", err=True)
    click.echo(f"imported {len(lines) - len(refused)} of {len(lines)} commands")
    if refused:
        raise SystemExit(1)


def _progress() -> Progress:
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True))
