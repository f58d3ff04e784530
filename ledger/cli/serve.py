"""The serve command: run the ledger's HTTP API and/or its background workers."""

from __future__ import annotations

import os
from typing import Any

import click
import msgspec

from ledger.cli.client import BadConfiguration
from ledger.cli.failures import announce
from ledger.settings import Settings

ROLES = ("all", "api", "worker")


@click.command()
@click.option("--host", help="Interface to listen on [env LEDGER_HOST; default 127.0.0.1].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="TCP port to listen on [env LEDGER_PORT; default 8080].",
)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default=None,
    help="all: API and workers (default); api: the HTTP API only; "
    "worker: projections and publishers only [env LEDGER_ROLE].",
)
def serve(host: str | None, port: int | None, role: str | None) -> None:
    """Run the ledger server until interrupted (Ctrl-C or SIGTERM).

    Storage comes from the environment: LEDGER_DATABASE_URL=postgresql://… for PostgreSQL,
    else SQLite files under LEDGER_DATA_DIR (default ./.ledger). Without tokens the server is
    open, and only on loopback.

    \b
    Examples:
      ledger serve
      LEDGER_DATA_DIR=/var/lib/ledger ledger serve --port 9000
      LEDGER_DATABASE_URL=postgresql://ledger@db/ledger ledger serve --host 0.0.0.0 --role api
    """
    from ledger.http.server import run_server  # on demand: client commands need no server

    run_server(settings_for(host=host, port=port, role=role))


def settings_from_env() -> Settings:
    """The LEDGER_* settings of a command that opens the store itself, which it names on
    stderr; a malformed value is a usage error, not a traceback."""
    return announce(_read_env())


def _read_env() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as error:
        raise BadConfiguration(f"a LEDGER_* variable has a bad value: {error}") from None


def settings_for(*, host: str | None, port: int | None, role: str | None) -> Settings:
    """Settings from the environment, with the command line's overrides."""
    if role is not None:
        os.environ["LEDGER_ROLE"] = role  # read by the server when Settings has no role field
    settings = _read_env()
    changes: dict[str, Any] = {"host": host, "port": port}
    if "role" in Settings.__struct_fields__:
        changes["role"] = role
    given = {k: v for k, v in changes.items() if v is not None}
    return msgspec.structs.replace(settings, **given) if given else settings
