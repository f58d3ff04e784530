"""What a benchmark run reports: one row per figure, printed as a table and saved as JSON,
and the progress lines printed while it runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table

_STARTED = time.monotonic()


class Row(msgspec.Struct, kw_only=True):
    """One figure of a scenario, with the raw reference measured in the same run."""

    scenario: str
    figure: str
    value: float
    unit: str
    reference: float | None = None
    reference_of: str | None = None  # what the raw reference measured
    target: str | None = None
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.reference is None or self.reference == 0:
            return None
        return self.value / self.reference


class Report(msgspec.Struct, kw_only=True):
    """A whole run: where it ran, its sizes, and its rows."""

    machine: dict[str, object]
    sizes: dict[str, object]
    rows: list[Row] = []
    notes: list[str] = []

    def add(self, *rows: Row) -> None:
        self.rows.extend(rows)

    def scenarios(self) -> list[str]:
        return sorted({row.scenario for row in self.rows})

    def to_json(self) -> bytes:
        rows = [msgspec.structs.asdict(r) | {"ratio": r.ratio} for r in self.rows]
        body = {**msgspec.structs.asdict(self), "rows": rows}
        return msgspec.json.format(msgspec.json.encode(body), indent=2) + b"\n"

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_json())


def ratio_row(
    scenario: str, figure: str, ledger: float, raw: float, reference_of: str, at_least: float
) -> Row:
    """A rate in events/s beside its raw reference; met when the ratio is ``at_least`` or more."""
    return Row(
        scenario=scenario,
        figure=figure,
        value=ledger,
        unit="events/s",
        reference=raw,
        reference_of=reference_of,
        target=f"ratio ≥ {at_least:g}",
        met=ledger / raw >= at_least,
    )


def say(message: str) -> None:
    """A progress line on stderr, with the seconds since the run started."""
    print(f"[bench {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


class Ticker:
    """Says ``label: done/total`` at most every ``every`` seconds while a loop advances."""

    def __init__(self, label: str, total: int, every: float = 2.0) -> None:
        self.label = label
        self.total = total
        self.every = every
        self.started = self._last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            rate = done / max(now - self.started, 1e-9)
            say(f"{self.label}: {done:,}/{self.total:,} ({rate:,.0f}/s)")


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def print_table(report: Report, console: Console | None = None) -> None:
    """The rows as a table on stdout: scenario, figure, raw reference, ratio, target."""
    table = Table(title="ledger bench", title_justify="left")
    for column in ("scenario", "figure", "ledger", "raw reference", "ratio", "target", "met"):
        table.add_column(column, justify="right" if column in ("ledger", "ratio") else "left")
    for row in report.rows:
        reference = number(row.reference, row.unit)
        if row.reference_of:
            reference += f" ({row.reference_of})"
        met = {True: "yes", False: "NO", None: ""}[row.met]
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
        cells = (row.figure, number(row.value, row.unit), reference, ratio, row.target or "")
        table.add_row(row.scenario, *cells, met)
    (console or Console(width=200)).print(table)
    for note in report.notes:
        print(f"- {note}")
