"""A planted secret never leaves the event store in plaintext: not in any HTTP answer (writes,
reads, history, errors), not in a log record, not in any row of the views or the token table,
and, with LEDGER_CIPHER_KEY, not in the bytes of the store either. The one place it shows is
the current state read by a ``secrets:read`` principal."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from ledger.eventstore.encryption import new_key
from ledger.http.keys import VIEWS

Ledger = Any
StartLedger = Any
SHOP = "/v1/apps/shop"
PROD, STAGING = f"{SHOP}/envs/prod", f"{SHOP}/envs/staging"


class Planted:
    """Secret values, each unique to the test, and the tokens that wrote and read them."""

    def __init__(self) -> None:
        self.password = f"s3cr3t-{uuid.uuid4()}"  # DB_PASSWORD: secret by its name
        self.rotated = f"s3cr3t-{uuid.uuid4()}"  # DB_PASSWORD's next value
        self.licence = f"s3cr3t-{uuid.uuid4()}"  # LICENCE: declared secret
        self.api_token = f"s3cr3t-{uuid.uuid4()}"  # STRIPE_TOKEN in staging
        self.refused = f"s3cr3t-{uuid.uuid4()}"  # only ever sent in refused requests
        self.tokens: list[str] = []

    @property
    def values(self) -> list[str]:
        return [self.password, self.rotated, self.licence, self.api_token, self.refused]

    def found_in(self, text: str | bytes) -> list[str]:
        data = text if isinstance(text, bytes) else text.encode(errors="surrogateescape")
        return [s for s in [*self.values, *self.tokens] if s.encode() in data]


async def plant(ledger: Ledger) -> tuple[Planted, dict[str, Any]]:
    """Config with secrets, a rotation, a rollback that restores the old secret, a denied and
    some invalid attempts carrying secrets; returns the secrets and the principals."""
    planted = Planted()
    who: dict[str, Any] = {}
    for name, kind, scopes in (
        ("root", "system", "admin"),
        ("ci-bot", "ci", "read,build:write,config:write,deploy,rollback"),
        ("alice", "human", "read,config:write"),
        ("auditor", "human", "read"),
        ("keeper", "human", "read,secrets:read"),
    ):
        token = await ledger.tokens.create(name, kind, frozenset(scopes.split(",")))
        planted.tokens.append(token)
        who[name] = ledger.bearer(token, name)
    ledger.reader = who["auditor"]
    root, ci, alice = who["root"], who["ci-bot"], who["alice"]
    await root.write("POST", "/v1/apps", {"name": "shop"})
    for bid in ("b1", "b2"):
        await ci.write("POST", f"{SHOP}/builds", ledger.build_body(bid))
    first = {"DB_PASSWORD": planted.password, "LICENCE": planted.licence, "DB_HOST": "db"}
    await ci.write("POST", f"{PROD}/config", {"set": first, "secret": ["LICENCE"]})
    await ci.write("POST", f"{PROD}/deploys", {"build_id": "b1"})  # v2 pins the first config
    await ci.write("POST", f"{PROD}/config", {"set": {"DB_PASSWORD": planted.rotated}})
    await ci.write("POST", f"{PROD}/deploys", {"build_id": "b2"})
    await ci.write("POST", f"{PROD}/rollback", {"to_version": 2, "reason": "b2 broke checkout"})
    await alice.write("POST", f"{STAGING}/config", {"set": {"STRIPE_TOKEN": planted.api_token}})
    await refused_attempts(ledger, planted, who)
    return planted, who


async def refused_attempts(ledger: Ledger, planted: Planted, who: dict[str, Any]) -> None:
    """Requests that carry a secret and are refused: the refusal must not repeat it."""
    secret = {"DB_PASSWORD": planted.refused}
    attempts = [
        (who["alice"], f"{PROD}/config", {"set": secret}, 403),  # prod takes config from CI only
        (who["auditor"], f"{STAGING}/config", {"set": secret}, 403),  # lacks config:write
        (who["ci-bot"], f"{STAGING}/config", {"set": secret | {"bad key!": "x"}}, 422),
        (who["ci-bot"], f"{STAGING}/config", {"set": secret, "sekret": ["DB_PASSWORD"]}, 422),
        (who["ci-bot"], f"{STAGING}/config", {"set": {"DB_PASSWORD": [planted.refused]}}, 422),
        (who["ci-bot"], f"{STAGING}/config", {"set": secret, "secret": "DB_PASSWORD"}, 422),
        (who["ci-bot"], f"{STAGING}/config", {"set": secret, "reason": ["x"]}, 422),
        (who["ci-bot"], "/v1/apps/nope/envs/prod/config", {"set": secret}, 404),
        (
            who["ci-bot"],
            f"{STAGING}/config",
            {"set": {"DB_PASSWORD": planted.refused + "x" * 70_000}},
            422,
        ),
        (
            who["ci-bot"],
            f"{STAGING}/config",
            {"set": secret, "unset": [f"{planted.refused} !"]},
            422,
        ),
    ]
    for caller, path, body, status in attempts:
        answer = await caller.request("POST", path, body)
        assert answer.status == status, answer
    key = {"Idempotency-Key": "config-once"}
    await who["ci-bot"].write("POST", f"{STAGING}/config", {"set": {"A": "1"}}, headers=key)
    replay = await who["ci-bot"].request("POST", f"{STAGING}/config", {"set": secret}, headers=key)
    assert replay.status == 409, replay


async def read_everything(ledger: Ledger, reader: Any) -> None:
    """Every read route, as ``reader`` (answers are kept by the ledger's clients)."""
    head = await ledger.head()
    paths = ["/v1/apps", SHOP, "/openapi.json", "/v1/verify", "/v1/audit/export", "/v1/events"]
    for env, versions in (("prod", 5), ("staging", 2)):
        base = f"{SHOP}/envs/{env}"
        paths += [base, f"{base}/releases", f"{base}/releases/{versions}/diff/1"]
        paths += [f"{base}/releases/{v}" for v in range(1, versions + 1)]
        paths += [f"{base}?release=1", f"{base}?position=1"]
    for path in paths:
        await reader.get(path, min_position=head)
    for query in ({}, {"kind": "denied"}, {"kind": "config"}, {"kind": "rollback"},
                  {"q": "s3cr3t"}, {"limit": 1}):  # fmt: skip
        page = await reader.get("/v1/history", min_position=head, **query)
        while page.status == 200 and page.json.get("next"):
            page = await reader.get("/v1/history", cursor=page.json["next"], **query)


async def table_values(ledger: Ledger, prefixes: tuple[str, ...]) -> dict[str, list[Any]]:
    """Every value of every row of the tables whose names start with a prefix."""
    database = ledger.client.app[VIEWS].database
    if database.backend == "postgres":
        listed = await database.fetch(
            "SELECT schemaname || '.' || tablename AS name FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        prefixes = tuple(f"public.{p}" for p in prefixes)
    else:
        listed = await database.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")
    names = sorted(t["name"] for t in listed if t["name"].startswith(prefixes))
    return {
        name.rpartition(".")[2]: [
            v for row in await database.fetch(f"SELECT * FROM {name}") for v in row.values()
        ]
        for name in names
    }


def leaks_in_values(planted: Planted, tables: dict[str, list[Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, values in tables.items():
        for value in values:
            data = value if isinstance(value, bytes) else str(value)
            if hits := planted.found_in(data):
                found.setdefault(name, []).extend(hits)
    return found


# --------------------------------------------------------------------------------------------


async def test_no_answer_repeats_a_secret(ledger: Ledger) -> None:
    planted, who = await plant(ledger)
    for reader in (who["auditor"], who["ci-bot"], who["alice"]):
        await read_everything(ledger, reader)

    leaks = [(a, planted.found_in(a.body)) for a in ledger.answers if planted.found_in(a.body)]
    assert leaks == []


async def test_a_secret_shows_as_its_fingerprint_and_in_plaintext_to_secrets_read(
    ledger: Ledger,
) -> None:
    planted, who = await plant(ledger)
    head = await ledger.head()
    shown = (await who["auditor"].read(PROD, min_position=head))["config"]
    fingerprint = ledger.client.app[VIEWS].fingerprints.fingerprint  # this ledger's key
    assert shown["DB_PASSWORD"] == fingerprint(planted.password)  # restored by the rollback
    assert shown["LICENCE"] == fingerprint(planted.licence)
    assert shown["DB_HOST"] == "db"

    for name in ("keeper", "root"):  # secrets:read, and admin which implies it
        revealed = (await who[name].read(PROD))["config"]
        assert (revealed["DB_PASSWORD"], revealed["LICENCE"]) == (planted.password, planted.licence)
    staging = (await who["keeper"].read(STAGING))["config"]
    assert staging["STRIPE_TOKEN"] == planted.api_token


async def test_no_view_row_and_no_token_row_holds_a_secret(ledger: Ledger) -> None:
    planted, _ = await plant(ledger)
    await ledger.history()  # the views have caught up with every event

    tables = await table_values(ledger, ("ledger_view_", "ledger_tokens"))

    assert {"ledger_view_history", "ledger_view_state", "ledger_tokens"} <= set(tables)
    assert leaks_in_values(planted, tables) == {}
    everything = leaks_in_values(planted, await table_values(ledger, ("",)))
    assert any(name.endswith("_events") for name in everything), "control: the search finds them"


async def test_no_log_record_holds_a_secret(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    planted, who = await plant(ledger)
    await read_everything(ledger, who["keeper"])

    records = [f"{r.getMessage()} {vars(r)}" for r in caplog.records]
    assert records, "the ledger logged nothing at DEBUG: the check would prove nothing"
    assert [r for r in records if planted.found_in(r)] == []


async def test_the_event_store_holds_secrets_only_encrypted_with_a_cipher_key(
    start: StartLedger,
) -> None:
    ledger = await start(cipher_key=new_key(), snapshot_interval=2, moment_interval=2)
    planted, _ = await plant(ledger)
    await ledger.history()

    tables = await table_values(ledger, ("",))  # every table: events, snapshots, views, tokens

    stored = [n for n in tables if n.endswith(("_events", "_snapshots")) and tables[n]]
    assert len(stored) == 2, f"no stored events and snapshots among {sorted(tables)}"
    assert leaks_in_values(planted, tables) == {}
    if ledger.settings.embedded:
        await ledger.client.close()  # the files as they are at rest
        files = sorted(Path(ledger.settings.data_dir).iterdir())
        assert "ledger.sqlite" in [f.name for f in files], files
        leaks = {f.name: planted.found_in(f.read_bytes()) for f in files}
        assert {name: hits for name, hits in leaks.items() if hits} == {}
