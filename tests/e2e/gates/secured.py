"""A ledger with tokens: its store made first, the principals' tokens created there with
`ledger token create`, then `ledger serve` started on it, as an operator does."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ...answers import Answer
from ..conftest import Api, Cli, LedgerServer, fresh_database, server_environ
from .places import Headers, Place, bearer


class Signed(Api):
    """A client of a ledger with tokens: each request carries this principal's token, unless
    it is sent with another's."""

    def __init__(self, url: str, headers: Headers, server_log: Any = None) -> None:
        super().__init__(url, server_log=server_log)
        self.headers = dict(headers)

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        raw: bytes | None = None,
        headers: Headers | None = None,
        query: Mapping[str, object] | None = None,
    ) -> Answer:
        sent = self.headers | dict(headers or {})
        return super().request(method, path, body, raw=raw, headers=sent, query=query)


@contextmanager
def store_of(
    backend: str, request: pytest.FixtureRequest, workdir: Path, **settings: str
) -> Iterator[dict[str, str]]:
    """The environment of servers and commands on a fresh store of the backend."""
    env = server_environ(workdir / "data") | settings
    if backend != "postgres":
        yield env
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        yield env | {"LEDGER_DATABASE_URL": url}


def tokens(env: Mapping[str, str], **principals: tuple[str, str]) -> dict[str, dict[str, str]]:
    """`ledger token create` for each name=(kind, scopes): the headers of each principal."""
    made = {}
    for name, (kind, scopes) in principals.items():
        done = Cli(env)("token", "create", "--name", name, "--kind", kind, "--scopes", scopes)
        assert done.returncode == 0, done.stderr
        made[name] = bearer(done.stdout.strip().splitlines()[-1])
    return made


@dataclass
class Secured:
    """A running ledger with tokens, and each principal's headers by name."""

    server: LedgerServer
    principals: dict[str, dict[str, str]]

    def __getitem__(self, name: str) -> dict[str, str]:
        return self.principals[name]

    def place(self, env: str, *, admin: str, ci: str) -> Place:
        """A new app in ``env``, set up by the principals named; read as the admin."""
        api = Signed(self.server.url, self[admin], self.server.log)
        return Place.new(api, env, admin=self[admin], ci=self[ci])
