"""The commands that open the store themselves name it on stderr (never its password) before
they work, and a store they cannot open is one line saying what is wrong and what to do, not a
traceback; ``ledger -v`` lets the traceback through."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from click.testing import CliRunner, Result

from ledger.cli.main import cli

COMMANDS = [
    ("verify",),
    ("checkpoint",),
    ("projections", "rebuild"),
    ("token", "list"),
    ("key", "rotate", "--plaintext"),
]
PASSWORD = "s3cret-pw"


def run(args: tuple[str, ...], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="ledger", env=env)


def acted_on(done: Result, store: str, hint: str) -> None:
    """Exit 1, the store named first, then one line saying what to do; no traceback."""
    assert done.exit_code == 1, (done.output, done.exception)
    assert isinstance(done.exception, SystemExit), done.exception
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"ledger: store: {store}", done.stderr
    assert lines[-1].startswith("Error: ") and hint in lines[-1], done.stderr
    assert "Traceback" not in done.output and PASSWORD not in done.output


def _url(admin_url: str, *, port: int | None = None, database: str) -> str:
    parts = urlsplit(admin_url)
    host = f"{parts.hostname}:{port or parts.port or 5432}"
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", "", ""))


@pytest.mark.postgres
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_database_that_does_not_exist(args: tuple[str, ...], postgres_admin_url: str) -> None:
    url = _url(postgres_admin_url, database="no_such_ledger")
    parts = urlsplit(url)
    store = f"PostgreSQL database 'no_such_ledger' on {parts.hostname}:{parts.port} as "
    done = run(args, {"LEDGER_DATABASE_URL": url})
    acted_on(done, store + repr(parts.username), "createdb no_such_ledger")


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_port_where_nothing_listens(args: tuple[str, ...]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://ledger:{PASSWORD}@127.0.0.1:{port}/ledger"
    done = run(args, {"LEDGER_DATABASE_URL": url})
    store = f"PostgreSQL database 'ledger' on 127.0.0.1:{port} as 'ledger'"
    acted_on(done, store, "start it or fix LEDGER_DATABASE_URL")


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_data_dir_that_cannot_be_created(args: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    data_dir = tmp_path / "a-file" / "ledger"
    done = run(args, {"LEDGER_DATA_DIR": str(data_dir)})
    acted_on(done, f"SQLite {data_dir / 'ledger.sqlite'}", "set LEDGER_DATA_DIR to a writable")


@pytest.mark.postgres
def test_migrate_store_names_both_stores_and_a_target_it_cannot_open(
    postgres_admin_url: str, data_dir: Path
) -> None:
    run(("token", "create", "--name", "ci", "--kind", "ci", "--scopes", "read"), env(data_dir))
    url = _url(postgres_admin_url, database="no_such_ledger")
    done = run(("migrate-store", "--to", url), env(data_dir))
    assert done.exit_code == 1 and "Traceback" not in done.output, done.output
    assert "ledger: into: PostgreSQL database 'no_such_ledger'" in done.stderr
    assert "createdb no_such_ledger" in done.stderr and PASSWORD not in done.output


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    done = run(("-v", "verify"), {"LEDGER_DATA_DIR": str(tmp_path / "a-file" / "ledger")})
    assert isinstance(done.exception, NotADirectoryError | FileExistsError), done.exception


def test_the_store_is_named_before_a_command_works(data_dir: Path) -> None:
    done = run(("checkpoint",), env(data_dir))
    assert done.stderr.startswith(f"ledger: store: SQLite {data_dir / 'ledger.sqlite'}\n")


def env(data_dir: Path) -> dict[str, Any]:
    return {"LEDGER_DATA_DIR": str(data_dir)}
