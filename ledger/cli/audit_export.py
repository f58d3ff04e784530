"""`ledger audit export` (from the server, as a third party gets it) and `ledger audit
verify-export` (offline: the file and the keys, nothing else), as docs/verification.md says."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

import click
import msgspec

from ledger.cli.audit import pinned_key
from ledger.cli.client import LedgerClient

if TYPE_CHECKING:
    from ledger.audit.export_check import ExportVerdict

EXIT_FAILED = 1
CHUNK_BYTES = 64 * 1024


@click.group()
def audit() -> None:
    """The verification export: the log as anyone can verify it (docs/verification.md)."""


@audit.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file."
)
def export_audit(output: str | None) -> None:
    """Download the verification export from the server at LEDGER_URL (a token with the read
    scope is enough): a header, every checkpoint, every event's hashed form (never a secret
    in plain text), an end line. Verify it with `ledger audit verify-export` or any verifier
    written from docs/verification.md.

    \b
    Example:
      ledger audit export -o ledger-audit.ndjson
    """
    lines = size = 0
    with (
        LedgerClient.from_env().stream("/v1/audit/export") as response,
        click.open_file(output or "-", "wb") as target,
    ):
        while chunk := response.read1(CHUNK_BYTES):
            try:
                target.write(chunk)
            except OSError as error:
                raise click.ClickException(f"cannot write the export: {error}") from None
            lines, size = lines + chunk.count(b"\n"), size + len(chunk)
    click.echo(f"exported {lines} lines ({size} bytes)", err=True)


@audit.command("verify-export")
@click.argument("export", type=click.File("r", encoding="utf-8"), default="-")
@click.option(
    "--key",
    "verifier_key",
    help="The ledger's verifier key (name+hash+base64, as `ledger checkpoint` prints it), or "
    "its raw public key; without it the export's own is used, which proves nothing.",
)
@click.option(
    "--witness",
    "witnesses",
    multiple=True,
    help="A witness's verifier key (name+hash+base64(0x04 || key)); repeat for each.",
)
@click.option(
    "--quorum",
    type=click.IntRange(min=0),
    default=None,
    help="How many of the witnesses must cosign the latest checkpoint [default: all given].",
)
@click.option("--allow-unsigned", is_flag=True, help="Accept unsigned checkpoints.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def verify_export(
    export: IO[str],
    verifier_key: str | None,
    witnesses: tuple[str, ...],
    quorum: int | None,
    allow_unsigned: bool,
    as_json: bool,
) -> None:
    """Verify an EXPORT file (or - for stdin) as docs/verification.md says: every event's hash
    from its form, every stream's chain, the Merkle tree against every checkpoint, the
    checkpoints' signatures and the witnesses' cosignatures. Exits 0 when it verifies, 1 when
    not, naming the line and the position of each failure."""
    from ledger.audit.cosigning import WitnessKey  # on demand: loads cryptography
    from ledger.audit.export_check import ExportChecker  # on demand: loads cryptography

    key = pinned_key(verifier_key, "--key")
    try:
        witness_keys = [WitnessKey.parse(w) for w in witnesses]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--witness") from None
    needed = len(witness_keys) if quorum is None else quorum
    checker = ExportChecker(key, witness_keys, needed, allow_unsigned=allow_unsigned)
    for number, line in enumerate(export, 1):
        checker.feed(number, line)
    verdict = checker.finish()
    if as_json:
        click.echo(msgspec.json.format(msgspec.json.encode(verdict)).decode())
    else:
        _print(verdict)
    if not verdict.ok:
        sys.exit(EXIT_FAILED)


def _print(v: ExportVerdict) -> None:
    witnessed = f", cosigned by {', '.join(v.cosigned_by)}" if v.cosigned_by else ""
    click.echo(
        f"{v.events} events in {v.streams} streams ({v.withheld} withheld, {v.uncovered} after "
        f"the latest checkpoint), {v.checkpoints} checkpoints (latest {v.latest}{witnessed})"
    )
    for warning in v.warnings:
        click.echo(f"note: {warning}")
    for f in v.failures:
        place = " ".join(
            part
            for part in (
                f"line {f.line}",
                f"position {f.position}" if f.position is not None else "",
                f"stream {f.stream_id}" if f.stream_id else "",
                f"version {f.version}" if f.version is not None else "",
                f"checkpoint {f.tree_size}" if f.tree_size is not None else "",
            )
            if part
        )
        click.echo(f"FAILED {place}: {f.detail}")
    click.echo("ok: the export verifies" if v.ok else f"{len(v.failures)} failure(s)")
