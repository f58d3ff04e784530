"""Bytes that are not UTF-8 where no JSON decoder stands guard: `ledger` command arguments (a
shell hands them over as lone surrogates) and bearer tokens. The commands end with one line,
the server answers 401; nothing is appended and nothing fails with a traceback or a 5xx."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from ..conftest import Api, Cli, LedgerServer

pytestmark = pytest.mark.e2e

NOT_UTF8_ARGUMENTS = [os.fsdecode(b"x\xffy"), os.fsdecode(b"bad \xed\xa0\x80 reason")]
"""What a shell hands the CLI for bytes that are not UTF-8: lone surrogates (surrogateescape)."""


@pytest.fixture(scope="module")
def shop(api: Api) -> Api:
    """The app ``shop``, so that a history read has something before the commands run."""
    api.write("POST", "/v1/apps", {"name": "shop"})
    return api


@pytest.mark.parametrize("text", NOT_UTF8_ARGUMENTS, ids=["latin-1", "encoded-surrogate"])
def test_the_cli_refuses_them_with_one_line(
    shop: Api, shared_server: LedgerServer, text: str
) -> None:
    start = shop.last_position
    cli = Cli(shared_server.env | {"LEDGER_URL": shared_server.url})
    commands = [
        ("rollback", "shop", "staging", "--reason", text),
        ("token", "create", "--name", text, "--kind", "ci", "--scopes", "read"),
        ("token", "revoke", text),
        ("history", "--actor", text),
        ("history", "--query", text),
    ]
    for args in commands:
        done = cli(*args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode != 0 and len(lines) == 1, (args, done.stderr)
        assert lines[0].startswith("Error:") and "cannot be stored" in lines[0], done.stderr
    assert shop.history(after=start) == []


@pytest.mark.parametrize("token", [b"\xed\xa0\x80abc", b"\xffabc"], ids=["surrogate", "latin-1"])
def test_a_bearer_token_that_is_not_utf8_is_401(any_ledger: Any, token: bytes) -> None:
    any_ledger.token("root", "system", "admin")
    server = any_ledger.serve()
    request = b"GET /v1/apps HTTP/1.1\r\nHost: ledger\r\nAuthorization: Bearer " + token
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request + b"\r\nConnection: close\r\n\r\n")
        answer = b"".join(iter(lambda: connection.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 401 "), answer
