"""Secrets across process boundaries: planted secret values (and the tokens, and the database
password) never show in the server's log output (at DEBUG), in the CLI's output, in any HTTP
answer, or in the bytes of an encrypted store or its backup. `ledger key rotate` encrypts a
plaintext store so that the values leave the file."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from ledger.eventstore.encryption import new_key

pytestmark = pytest.mark.e2e

Ledger = Any  # the fixtures of conftest.py
SHOP = "/v1/apps/shop"
PROD, STAGING = f"{SHOP}/envs/prod", f"{SHOP}/envs/staging"
PRINCIPALS = {
    "root": ("system", "admin"),
    "ci-bot": ("ci", "read,build:write,config:write,deploy,rollback"),
    "alice": ("human", "read,config:write"),
    "auditor": ("human", "read"),
    "keeper": ("human", "read,secrets:read"),
}


def secret() -> str:
    return f"s3cr3t-{uuid.uuid4()}"


class Story:
    """Secrets written through a live server, and the tokens that wrote them."""

    def __init__(self, ledger: Ledger) -> None:
        self.password, self.rotated, self.licence = secret(), secret(), secret()
        self.stripe, self.refused = secret(), secret()
        self.tokens = {n: ledger.token(n, kind, scopes) for n, (kind, scopes) in PRINCIPALS.items()}
        self.hidden = [self.password, self.rotated, self.licence, self.stripe, self.refused]

    def leaks(self, text: str | bytes) -> list[str]:
        data = text.encode(errors="replace") if isinstance(text, str) else text
        values = [*self.hidden, *self.tokens.values()]
        return [v for v in values if v.encode() in data]

    def tell(self, server: Any) -> None:
        t = self.tokens
        server.write("POST", "/v1/apps", {"name": "shop"}, t["root"])
        for bid in ("b1", "b2"):
            commit = f"{bid.encode().hex():0<40}"
            build = {"build_id": bid, "commit": commit, "status": "succeeded",
                     "artifact": {"digest": f"sha256:{commit:0<64}"},
                     "pipeline": {"name": "main", "run_id": bid}}  # fmt: skip
            server.write("POST", f"{SHOP}/builds", build, t["ci-bot"])
        first = {"DB_PASSWORD": self.password, "LICENCE": self.licence, "DB_HOST": "db"}
        server.write("POST", f"{PROD}/config", {"set": first, "secret": ["LICENCE"]}, t["ci-bot"])
        server.write("POST", f"{PROD}/deploys", {"build_id": "b1"}, t["ci-bot"])
        server.write("POST", f"{PROD}/config", {"set": {"DB_PASSWORD": self.rotated}}, t["ci-bot"])
        server.write("POST", f"{PROD}/deploys", {"build_id": "b2"}, t["ci-bot"])
        back = {"to_version": 2, "reason": "b2 broke checkout"}
        server.write("POST", f"{PROD}/rollback", back, t["ci-bot"])
        server.write(
            "POST", f"{STAGING}/config", {"set": {"STRIPE_TOKEN": self.stripe}}, t["alice"]
        )

    def refuse(self, server: Any) -> None:
        """Refused requests carrying a secret: 403 (recorded), 422, 404, and one that nests
        deeper than the decoder goes."""
        t, carried = self.tokens, {"DB_PASSWORD": self.refused}
        attempts = [
            ("alice", f"{PROD}/config", {"set": carried}),
            ("auditor", f"{STAGING}/config", {"set": carried}),
            ("ci-bot", f"{STAGING}/config", {"set": carried | {"bad key!": "x"}}),
            ("ci-bot", f"{STAGING}/config", {"set": carried, "unknown": True}),
            ("ci-bot", "/v1/apps/nope/envs/prod/config", {"set": carried}),
        ]
        for name, path, body in attempts:
            assert server.request("POST", path, body, token=t[name]).status in (403, 404, 422)
        deep = f'{{"set": {{"DB_PASSWORD": "{self.refused}"}}, "reason": {"[" * 5000}'
        server.request("POST", f"{STAGING}/config", raw=deep.encode(), token=t["ci-bot"])

    def read_everything(self, server: Any, name: str) -> None:
        token = self.tokens[name]
        head = server.request("GET", "/readyz").json.get("head", 0)
        paths = [
            "/v1/apps",
            SHOP,
            "/v1/verify",
            "/v1/audit/export",
            "/v1/events",
            f"/v1/history?limit=500&min_position={head}",
        ]
        for env, last in (("prod", 5), ("staging", 1)):
            base = f"{SHOP}/envs/{env}"
            paths += [
                f"{base}?min_position={head}",
                f"{base}/releases",
                f"{base}/releases/{last}/diff/1",
            ]
            paths += [f"{base}/releases/{v}" for v in range(1, last + 1)]
        for path in paths:
            server.request("GET", path, token=token)


def cli_outputs(ledger: Ledger, server: Any, token: str) -> list[str]:
    """What the client commands print, as a reader who may not see secrets."""
    client = {"LEDGER_URL": server.url, "LEDGER_TOKEN": token}
    commands = [
        ("state", "shop", "prod"), ("state", "shop", "prod", "--json"),
        ("state", "shop", "prod", "--release", "1"), ("state", "shop", "staging"),
        ("history",), ("history", "--json"), ("history", "--kind", "denied"),
        ("releases", "shop", "prod"), ("releases", "shop", "prod", "--json"),
        ("diff", "shop", "prod", "1", "5"), ("diff", "shop", "prod", "1", "5", "--json"),
        ("export",), ("export", "--format", "csv"),
    ]  # fmt: skip
    outputs = []
    for args in commands:
        done = ledger.command(*args, **client)
        assert done.returncode == 0, (args, done.stderr)
        outputs += [done.stdout, done.stderr]
    return outputs


def with_password(url: str, password: str) -> str:
    """The database URL with a password (the test server trusts local connections)."""
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def test_a_secret_never_reaches_logs_cli_output_answers_or_encrypted_bytes(
    any_ledger: Ledger, data_dir: Path, tmp_path: Path
) -> None:
    db_password = secret()
    if "LEDGER_DATABASE_URL" in any_ledger.env:
        any_ledger.env["LEDGER_DATABASE_URL"] = with_password(
            any_ledger.env["LEDGER_DATABASE_URL"], db_password
        )
    any_ledger.env |= {"LEDGER_CIPHER_KEY": new_key(), "LEDGER_LOG_LEVEL": "DEBUG"}
    story = Story(any_ledger)
    story.hidden.append(db_password)
    server = any_ledger.serve()
    story.tell(server)
    story.refuse(server)
    for name in ("auditor", "ci-bot", "alice"):
        story.read_everything(server, name)
    outputs = cli_outputs(any_ledger, server, story.tokens["auditor"])
    offline = [any_ledger.command("verify"), any_ledger.command("token", "list")]
    outputs += [o for done in offline for o in (done.stdout, done.stderr)]

    revealed = server.request("GET", PROD, token=story.tokens["keeper"]).json["config"]
    assert revealed["DB_PASSWORD"] == story.password  # the one place: secrets:read, GET state
    shown = server.request("GET", PROD, token=story.tokens["auditor"]).json["config"]
    assert re.fullmatch(r"<secret:[0-9a-f]{12,}>", shown["DB_PASSWORD"]), shown
    backup = tmp_path / "backup.sqlite"
    if "LEDGER_DATABASE_URL" not in any_ledger.env:
        outputs += any_ledger.command("backup", str(backup)).stdout.splitlines()
    server.stop()

    assert [
        b for b in server.bodies if story.leaks(b) and revealed["DB_PASSWORD"].encode() not in b
    ] == []
    assert story.leaks(server.log()) == [], "the server's log output holds a secret"
    assert "DEBUG" in server.log().upper(), "no DEBUG lines: the log check would prove little"
    assert [o for o in outputs if story.leaks(o)] == [], "a CLI command printed a secret"
    files = [*data_dir.iterdir(), *([backup] if backup.exists() else [])]
    assert {f.name: story.leaks(f.read_bytes()) for f in files if story.leaks(f.read_bytes())} == {}


def test_key_rotate_takes_a_plaintext_store_to_encrypted_bytes(
    sqlite_ledger: Ledger, data_dir: Path
) -> None:
    story = Story(sqlite_ledger)
    server = sqlite_ledger.serve()
    story.tell(server)
    server.stop()
    stored = b"".join(f.read_bytes() for f in data_dir.iterdir())
    assert story.password.encode() in stored, "control: without a key the events hold it"

    key = new_key()
    rotated = sqlite_ledger.command("key", "rotate", LEDGER_NEW_CIPHER_KEY=key)

    assert rotated.returncode == 0, rotated.stderr
    leaks = {f.name: story.leaks(f.read_bytes()) for f in data_dir.iterdir()}
    assert {name: found for name, found in leaks.items() if found} == {}
    sqlite_ledger.env["LEDGER_CIPHER_KEY"] = key  # from now on, for the server and the CLI
    server = sqlite_ledger.serve()
    assert (
        server.request("GET", PROD, token=story.tokens["keeper"]).json["config"]["DB_PASSWORD"]
        == story.password
    )
    history = server.request("GET", "/v1/history?limit=500", token=story.tokens["auditor"])
    assert len(history.json["items"]) >= 9 and not story.leaks(history.body)
    assert sqlite_ledger.command("verify").returncode == 0
