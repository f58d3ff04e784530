"""Tamper evidence on the command line: `ledger verify` and `ledger checkpoint` (on the store,
like `ledger projections rebuild`), and `ledger proof verify` (offline, for auditors)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import IO, TYPE_CHECKING

import click
import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.cli.serve import settings_from_env
from ledger.eventstore.application import LedgerStore
from ledger.settings import Settings
from ledger.sql.opening import open_database

if TYPE_CHECKING:
    from ledger.audit.cosigning import WitnessKey
    from ledger.audit.messages import Checkpoint, Problem, VerifyReport, WitnessStatus
    from ledger.audit.signing import PinnedKey

EXIT_TAMPERED = 1
WITNESS_HELP = (
    "A witness's verifier key (name+hash+base64, as `ledger witness --print-verifier-key` "
    "prints it) whose cosignatures count; repeat for more."
)
MIN_COSIGNATURES_HELP = (
    "How many of the witnesses given must have cosigned the (latest) checkpoint for it to be "
    "trusted [default: 1 with --witness, else 0]."
)
PUBLIC_KEY_HELP = (
    "The ledger's Ed25519 public key (hex or base64), or its verifier key (name+hash+base64, "
    "as `ledger checkpoint` prints it: pins the key name of notes too), to check signatures with."
)


@click.command()
@click.option("--public-key", help=PUBLIC_KEY_HELP + " [default: the configured signing key's]")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=min(os.cpu_count() or 1, 8),
    show_default="the number of CPUs, at most 8",
    help="Worker processes that decode and hash events (used for logs over 40,000 events).",
)
@click.option("--witness", "witness_keys", multiple=True, help=WITNESS_HELP)
@click.option("--min-cosignatures", type=click.IntRange(min=0), help=MIN_COSIGNATURES_HELP)
def verify(
    public_key: str | None,
    as_json: bool,
    jobs: int,
    witness_keys: tuple[str, ...],
    min_cosignatures: int | None,
) -> None:
    """Re-read every event from the store and check it: each event's hash, every stream's
    hash chain (prev_hash links, versions 1..n), the Merkle tree against every checkpoint,
    and the checkpoints' signatures. With --witness, the latest checkpoint is trusted only
    with --min-cosignatures valid cosignatures by those witnesses, and every cosignature of
    theirs must still verify. Exits 1 when tampering is found, naming each problem.

    Talks to the store named by LEDGER_DATABASE_URL, else LEDGER_DATA_DIR, like `ledger serve`.
    """
    from ledger.audit.verifier import verify_log  # on demand: loads cryptography

    settings = settings_from_env()
    pinned = pinned_key(public_key)
    witnesses, required = _witnesses(witness_keys, min_cosignatures)
    key = pinned.public_key if pinned else _configured_key(settings)
    store = _open_store(settings)
    try:
        with _progress() as progress:
            task = progress.add_task("verifying", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total or None)

            name = pinned.name if pinned else None
            report = verify_log(
                store,
                key,
                advance,
                jobs=jobs,
                key_name=name,
                witnesses=witnesses,
                min_cosignatures=required,
            )
    finally:
        store.close()
    if as_json:
        click.echo(msgspec.json.format(msgspec.json.encode(report)).decode())
    else:
        _print_report(report)
    if not report.ok:
        sys.exit(EXIT_TAMPERED)


@click.command()
def checkpoint() -> None:
    """Bring the Merkle tree up to the head of the log and write a checkpoint now.

    The server does this on its own (every LEDGER_CHECKPOINT_EVENTS events, default 1000, or
    LEDGER_CHECKPOINT_SECONDS seconds, default 10); this is the on-demand way."""
    written, witnesses = asyncio.run(_checkpoint(settings_from_env()))
    if written is None:
        raise click.ClickException("the log is empty: there is nothing to checkpoint")
    _print_checkpoint(written)
    _print_witnesses(witnesses)


@click.group()
def proof() -> None:
    """Proofs of the ledger's Merkle tree, checked offline (no server, no store)."""


@proof.command("verify")
@click.argument("document", type=click.File("rb"), default="-")
@click.option("--public-key", help=PUBLIC_KEY_HELP + " Pin it: do not trust the document's.")
@click.option("--allow-unsigned", is_flag=True, help="Accept unsigned checkpoints.")
@click.option("--witness", "witness_keys", multiple=True, help=WITNESS_HELP)
@click.option("--min-cosignatures", type=click.IntRange(min=0), help=MIN_COSIGNATURES_HELP)
def verify_proof(
    document: IO[bytes],
    public_key: str | None,
    allow_unsigned: bool,
    witness_keys: tuple[str, ...],
    min_cosignatures: int | None,
) -> None:
    """Check a proof DOCUMENT (a file, or - for stdin) as served by
    GET /v1/events/{event_id}/proof or GET /v1/checkpoints/{first}/consistency/{second},
    or a checkpoint's note with its cosignatures as served by GET /v1/checkpoints/latest
    with Accept: text/plain. Exits 0 when it is valid, 1 when it is not."""
    # on demand: loads cryptography
    from ledger.audit.offline import verify_note, verify_proof_json

    pinned = pinned_key(public_key)
    witnesses, required = _witnesses(witness_keys, min_cosignatures)
    content = document.read()
    key, name = (pinned.public_key, pinned.name) if pinned else (None, None)
    if content.lstrip()[:1] == b"{":
        verdict = verify_proof_json(
            content,
            key,
            allow_unsigned=allow_unsigned,
            key_name=name,
            witnesses=witnesses,
            min_cosignatures=required,
        )
    else:
        text = content.decode("utf-8", errors="replace")
        verdict = verify_note(
            text, key, key_name=name, witnesses=witnesses, min_cosignatures=required
        )
    click.echo(("valid: " if verdict.ok else "INVALID: ") + verdict.summary)
    for problem in verdict.problems:
        click.echo(f"  - {problem}")
    if not verdict.ok:
        sys.exit(EXIT_TAMPERED)


def pinned_key(text: str | None, option: str = "--public-key") -> PinnedKey | None:
    """The key a command's ``option`` pins (a raw key or a verifier key), or a usage error."""
    from ledger.audit.signing import parse_pinned_key  # on demand: loads cryptography

    if text is None:
        return None
    try:
        return parse_pinned_key(text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def _witnesses(keys: tuple[str, ...], min_cosignatures: int | None) -> tuple[list[WitnessKey], int]:
    """The witnesses' keys given, and how many cosignatures are required of them."""
    from ledger.audit.cosigning import WitnessKey  # on demand: loads cryptography

    try:
        witnesses = [WitnessKey.parse(key) for key in keys]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--witness") from None
    required = min_cosignatures if min_cosignatures is not None else min(len(witnesses), 1)
    if required > len(set(witnesses)):
        raise click.BadParameter(
            f"{required} cosignature(s) required of {len(set(witnesses))} witness(es) given",
            param_hint="--min-cosignatures",
        )
    return witnesses, required


def _configured_key(settings: Settings) -> bytes | None:
    # on demand: loads cryptography, which the other commands do without
    from ledger.audit.config import AuditSettings
    from ledger.audit.signing import load_signer

    signer = load_signer(settings, AuditSettings.from_env().signing_key, create=False)
    return None if signer is None else signer.public_key


def _open_store(settings: Settings) -> LedgerStore:
    """The event store, with the audit tables created if this ledger never had them."""
    from ledger.audit.checkpointer import create_tables  # on demand: loads cryptography

    async def prepare() -> None:
        database = await open_database(settings)
        try:
            await create_tables(database)
        finally:
            await database.close()

    asyncio.run(prepare())
    return LedgerStore(settings)


async def _checkpoint(settings: Settings) -> tuple[Checkpoint | None, list[WitnessStatus]]:
    from ledger.audit import checkpointer_for, open_audit  # on demand: loads cryptography

    store = LedgerStore(settings)
    database = await open_database(settings)
    try:
        audit = await open_audit(settings, database)
        checkpointer = checkpointer_for(store, audit)
        await checkpointer.catch_up()
        written = await checkpointer.checkpoint()
        witnesses = await audit.witnesses.all()
        if written is None:
            return None, witnesses
        return await audit.checkpoint(written.tree_size), witnesses
    finally:
        await database.close()
        store.close()


def _print_checkpoint(c: Checkpoint) -> None:
    click.echo(f"tree_size:  {c.tree_size}")
    click.echo(f"root_hash:  {c.root_hash}")
    click.echo(f"created_at: {c.created_at}")
    click.echo(f"key_id:     {c.key_id or '- (unsigned: set LEDGER_SIGNING_KEY)'}")
    click.echo(f"public_key: {c.public_key or '-'}")
    click.echo(f"signature:  {c.signature or '-'}")
    click.echo(f"origin:     {c.origin or '-'}")
    click.echo(f"verifier_key: {c.verifier_key or '-'}")
    if c.note is not None:
        click.echo("note:")
        click.echo(c.note + "".join(cosignature.line for cosignature in c.cosignatures), nl=False)


def _print_witnesses(witnesses: list[WitnessStatus]) -> None:
    """What each witness holds of this log and its last failure (the server sends each new
    checkpoint to the witnesses of LEDGER_WITNESSES; this one, at its next look)."""
    if witnesses:
        click.echo("witnesses:")
    for w in witnesses:
        cosigned = f"cosigned {w.cosigned_at}" if w.root_hash else "not cosigned by it"
        click.echo(f"  {w.witness} at {w.url}: holds tree {w.tree_size} ({cosigned})")
        if w.error:
            click.echo(f"    failing since {w.failing_since}: {w.error}")


def _print_report(report: VerifyReport) -> None:
    latest = report.latest_checkpoint
    cosigned = f", {report.cosignatures} cosignature(s)" if report.cosignatures else ""
    covered = (
        f"checkpoint {latest.tree_size} ({report.signature}{cosigned})"
        if latest
        else "no checkpoint"
    )
    click.echo(
        f"verified {report.events} events in {report.streams} streams up to position "
        f"{report.head} against {covered} in {report.seconds}s "
        f"({report.events_per_second} events/s)"
    )
    for warning in report.warnings:
        click.echo(f"note: {warning}")
    for problem in report.problems:
        click.echo(f"TAMPERED [{problem.check}] {_place(problem)}: {problem.detail}")
    click.echo("ok: no tampering found" if report.ok else f"{len(report.problems)} problem(s)")


def _place(p: Problem) -> str:
    """Where a problem is: position, stream (app/env), version, leaf, checkpoint."""
    parts = [
        f"position {p.position}" if p.position is not None else "",
        f"stream {p.stream_id}" if p.stream_id else "",
        f"({p.app}/{p.env or '-'})" if p.app else "",
        f"version {p.version}" if p.version is not None else "",
        f"leaf {p.leaf_index}" if p.leaf_index is not None else "",
        f"checkpoint {p.tree_size}" if p.tree_size is not None else "",
    ]
    return " ".join(part for part in parts if part)


def _progress() -> Progress:
    """A progress bar on stderr, so stdout carries only the result."""
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True), transient=True)
