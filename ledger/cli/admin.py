"""Administration on the store itself: tokens and encryption keys."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from ledger.cli.options import TEXT
from ledger.cli.serve import settings_from_env
from ledger.domain.errors import DomainError
from ledger.service.tokens import open_tokens, parse_scopes

T = TypeVar("T")


@click.group()
def token() -> None:
    """Manage bearer tokens (stored as SHA-256 hashes in the ledger_tokens table).

    Talks to the store named by LEDGER_DATABASE_URL, else LEDGER_DATA_DIR. Creating or
    revoking a token takes effect on running servers within a second, without a restart.
    """


@token.command("create")
@click.option("--name", type=TEXT, required=True, help="Principal name, recorded as the actor.")
@click.option("--kind", type=click.Choice(["ci", "human", "system"]), required=True)
@click.option(
    "--scopes", type=TEXT, required=True, help="Comma-separated, e.g. read,deploy,build:write."
)
def create(name: str, kind: str, scopes: str) -> None:
    """Create a token; it is printed once, alone on the last line of stdout."""

    async def run() -> str:
        async with open_tokens(settings_from_env()) as tokens:
            return await tokens.create(name, kind, parse_scopes(scopes))

    value = _guarded(run)
    click.echo(f"created token {name!r} ({kind}: {scopes}); it is shown only once:")
    click.echo(value)


@token.command("list")
def list_tokens() -> None:
    """List tokens (never their values)."""

    async def run() -> list[list[str]]:
        async with open_tokens(settings_from_env()) as tokens:
            return [
                [t.name, t.kind, ",".join(t.scopes), t.created_at, t.revoked_at or "active"]
                for t in await tokens.list()
            ]

    for row in _guarded(run):
        click.echo("\t".join(row))


@token.command("revoke")
@click.argument("name", type=TEXT)
def revoke(name: str) -> None:
    """Revoke the token of a principal."""

    async def run() -> None:
        async with open_tokens(settings_from_env()) as tokens:
            await tokens.revoke(name)

    _guarded(run)
    click.echo(f"revoked {name!r}")


@click.group()
def key() -> None:
    """Manage the key that encrypts events at rest (LEDGER_CIPHER_KEY)."""


@key.command("generate")
def generate() -> None:
    """Print a new AES-256 key for LEDGER_CIPHER_KEY."""
    from ledger.eventstore.encryption import new_key  # on demand: loads cryptography

    click.echo(new_key())


@key.command("rotate")
@click.option("--plaintext", is_flag=True, help="Decrypt to plaintext instead of a new key.")
def rotate(plaintext: bool) -> None:
    """Re-encrypt every stored event from LEDGER_CIPHER_KEY to LEDGER_NEW_CIPHER_KEY.

    Stop the servers first; afterwards start them with LEDGER_CIPHER_KEY set to the new key.
    Without a current key, a plaintext store is encrypted for the first time.
    """
    from ledger.eventstore.encryption import rotate as rewrap  # on demand: loads cryptography

    new = None if plaintext else os.environ.get("LEDGER_NEW_CIPHER_KEY")
    if not plaintext and not new:
        raise click.UsageError("set LEDGER_NEW_CIPHER_KEY (see `ledger key generate`)")
    count = rewrap(settings_from_env(), new)
    click.echo(f"re-encrypted {count} stored events and snapshots")


def _guarded(run: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine; a refusal becomes a one-line error and exit code 1."""
    try:
        return asyncio.run(run())  # type: ignore[arg-type]
    except DomainError as error:
        raise click.ClickException(error.detail) from None
