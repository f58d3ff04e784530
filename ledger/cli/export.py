"""The export command: the filtered history as NDJSON or CSV, streamed to a file or stdout."""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO

import click

from ledger.cli.client import LedgerClient
from ledger.cli.options import TEXT, history_filters

PROGRESS_SECONDS = 0.5
CHUNK_BYTES = 64 * 1024


class Progress:
    """How far an export has come, on stderr: bytes, and for NDJSON changes and position."""

    def __init__(self, upto: int, fmt: str, stream: IO[str]) -> None:
        self.upto = upto
        self.fmt = fmt
        self.stream = stream
        self.bytes = self.count = self.position = 0
        self._partial = b""
        self._shown = 0.0
        self._live = stream.isatty()

    def advance(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        if self.fmt == "ndjson":  # one item a line (JSON text never holds a raw newline)
            lines = (self._partial + chunk).split(b"\n")
            self._partial = lines.pop()
            self.count += len(lines)
            if lines:
                self.position = int(json.loads(lines[-1])["position"])
        if self._live and time.monotonic() - self._shown >= PROGRESS_SECONDS:
            self._shown = time.monotonic()
            self.stream.write(f"\r{self.describe()}")
            self.stream.flush()

    def describe(self) -> str:
        size = f"{self.bytes / 1000:.0f} kB" if self.bytes >= 1000 else f"{self.bytes} bytes"
        if self.fmt != "ndjson":
            return f"exported {size} (up to position {self.upto})"
        share = f", {100 * self.position // self.upto}%" if self.upto else ""
        where = f"position {self.position} of {self.upto}{share}"
        return f"exported {self.count} changes ({size}), {where}"

    def done(self) -> None:
        self.stream.write(("\r" if self._live else "") + self.describe() + "\n")


@click.command()
@history_filters
@click.option(
    "-q", "--query", "text", type=TEXT, help="Only changes whose summary or reason mention TEXT."
)
@click.option("--after", type=click.IntRange(min=0), help="Only changes after this position.")
@click.option(
    "--format", "fmt", type=click.Choice(["ndjson", "csv"]), default="ndjson", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file."
)
def export(fmt: str, output: str | None, text: str | None, **filters: str | int | None) -> None:
    """Export the change history, oldest first, as NDJSON (one history item a line) or CSV.

    The server streams it; progress goes to stderr. It covers the history up to where the
    views were when it began; resume a cut-short export with --after LAST_POSITION.

    \b
    Examples:
      ledger export --app shop --env prod -o shop-prod.ndjson
      ledger export --since 2024-05-01T00:00:00Z --format csv -o may.csv
    """
    query = {**filters, "q": text, "format": fmt}
    with LedgerClient.from_env().stream("/v1/history/export", query) as response:
        upto = int(response.headers.get("Ledger-Export-Upto") or 0)
        progress = Progress(upto, fmt, sys.stderr)
        with _target(output) as target:
            _copy(response, target, progress)
    progress.done()


def _copy(response: http.client.HTTPResponse, target: BinaryIO, progress: Progress) -> None:
    while chunk := response.read1(CHUNK_BYTES):
        try:
            target.write(chunk)
        except OSError as error:
            raise click.ClickException(f"cannot write the export: {error}") from None
        progress.advance(chunk)


@contextmanager
def _target(output: str | None) -> Iterator[BinaryIO]:
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        file = open(output, "wb")  # noqa: SIM115 - closed below, after the stream ends
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error}") from None
    with file:
        yield file
