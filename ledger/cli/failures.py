"""Failures of a command said in one line, with what to do (``ledger -v`` shows the traceback),
and the store a command opens, named before it works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import click

from ledger.settings import Settings

RUN_VERBOSE = "run `ledger -v …` for the traceback"


def store_of(settings: Settings) -> str:
    """The store the settings name, without the password."""
    if settings.database_url is None:
        return f"SQLite {settings.sqlite_file}"
    url = urlsplit(settings.database_url)
    where = f"{url.hostname or '127.0.0.1'}:{url.port or 5432}"
    database = url.path.lstrip("/") or "postgres"
    return f"PostgreSQL database {database!r} on {where} as {url.username or 'postgres'!r}"


def announce(settings: Settings) -> Settings:
    """Say on stderr which store the command opens; the settings unchanged."""
    click.echo(f"ledger: store: {store_of(settings)}", err=True)
    return settings


def explain(error: BaseException) -> str:
    """One line: what went wrong (the most telling error of the chain) and what to do."""
    for cause in _chain(error):
        said = _said(cause)
        if said:
            return said
    return f"{type(error).__name__}: {_first_line(error)} ({RUN_VERBOSE})"


def _said(error: BaseException) -> str | None:
    text, first = str(error), _first_line(error)
    fix_url = "or fix LEDGER_DATABASE_URL"
    writable = "set LEDGER_DATA_DIR to a writable directory"
    missing = re.search(r'database "([^"]+)" does not exist', text)
    if missing:
        name = missing[1]
        return f"PostgreSQL has no database {name!r}: create it (createdb {name}) {fix_url}"
    if isinstance(error, ConnectionRefusedError) or "Connection refused" in text:
        return f"PostgreSQL does not accept connections ({first}): start it {fix_url}"
    if "password authentication failed" in text or "no password supplied" in text:
        return f"PostgreSQL refused the user or password: {fix_url}"
    if isinstance(error, OSError) and error.filename is not None:
        what = f"{error.strerror or type(error).__name__}: {error.filename}"
        return f"cannot create or open the data directory ({what}): {writable}"
    if "unable to open database file" in text:
        return f"cannot open the SQLite file: {writable}"
    if "permission denied for" in text:
        grant = "grant the user CREATE on the database"
        return f"PostgreSQL refused to create or change the ledger's tables ({first}): {grant}"
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
