"""`ledger checkpoint`, `ledger verify` (exit 1 and each problem named on tampering) and the
auditor's `ledger proof verify`, run as a user runs them, on both backends."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from click.testing import CliRunner, Result

from ledger.audit import open_audit
from ledger.audit.signing import Signer, new_signing_key
from ledger.cli.main import cli
from ledger.domain import commands as c
from ledger.domain.names import environment_id
from ledger.domain.notes import verifier_key as verifier_key_of
from ledger.service.writer import Writer
from ledger.settings import Settings
from ledger.sql.opening import open_database

ALICE = c.Context(actor="alice", actor_kind="human")


def ledger(settings: Settings, *args: str, stdin: str | None = None) -> Result:
    env = {"LEDGER_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["LEDGER_DATABASE_URL"] = settings.database_url
    return CliRunner().invoke(cli, list(args), env=env, input=stdin)


def write_some(writer: Writer) -> None:
    writer.execute(c.CreateApp(app="shop"), ALICE)
    for n in range(5):
        writer.execute(c.SetFlag(app="shop", env="prod", flag="f", enabled=bool(n % 2)), ALICE)


def test_verify_passes_then_names_each_tampered_event_and_exits_1(
    settings: Settings, writer: Writer, tamperer: Any, signing_key: str
) -> None:
    write_some(writer)
    checkpointed = ledger(settings, "checkpoint")
    assert checkpointed.exit_code == 0, checkpointed.output
    assert "tree_size:  6" in checkpointed.output

    clean = ledger(settings, "verify")
    assert clean.exit_code == 0, clean.output
    assert "verified 6 events" in clean.output and "ok: no tampering found" in clean.output
    verifier_key = checkpointed.output.split("verifier_key: ")[1].split()[0]
    pinned = ledger(settings, "verify", "--public-key", verifier_key)
    assert pinned.exit_code == 0, pinned.output
    assert "against checkpoint 6 (valid)" in pinned.output

    target = tamperer.of(environment_id("shop", "prod"))[1]
    tamperer.edit(target.position, actor="mallory", reason="covering tracks")
    tampered = ledger(settings, "verify")
    assert tampered.exit_code == 1
    lines = [line for line in tampered.output.splitlines() if line.startswith("TAMPERED")]
    assert any(
        f"[leaf] position {target.position} stream {target.stream} (shop/prod) version 2" in line
        for line in lines
    ), tampered.output
    assert any("[chain]" in line and "version 3" in line for line in lines)

    as_json = ledger(settings, "verify", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["ok"] is False


def test_an_auditor_checks_a_proof_offline(
    settings: Settings, writer: Writer, signing_key: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LEDGER_LOG_ORIGIN", "ledger.example.com/audit")
    write_some(writer)
    checkpointed = ledger(settings, "checkpoint")
    assert checkpointed.exit_code == 0
    verifier_key = checkpointed.output.split("verifier_key: ")[1].split()[0]
    assert verifier_key.startswith("ledger.example.com/audit+")
    assert "\n\u2014 ledger.example.com/audit " in checkpointed.output  # the note
    assert ledger(settings, "projections", "rebuild").exit_code == 0  # event ids → positions
    document = asyncio.run(proof_of_first_event(settings))
    public_key = Signer.from_base64(signing_key).public_key.hex()

    path = tmp_path / "proof.json"
    path.write_bytes(document)
    valid = ledger(settings, "proof", "verify", str(path), "--public-key", public_key)
    assert valid.exit_code == 0, valid.output
    assert valid.output.startswith("valid: ")
    pinned = ledger(settings, "proof", "verify", str(path), "--public-key", verifier_key)
    assert pinned.exit_code == 0, pinned.output
    renamed = verifier_key_of("other.example/audit", bytes.fromhex(public_key))
    elsewhere = ledger(settings, "proof", "verify", str(path), "--public-key", renamed)
    assert elsewhere.exit_code == 1
    assert "no signature by the key named 'other.example/audit'" in elsewhere.output

    forged = json.loads(document)
    forged["position"] += 1
    rejected = ledger(settings, "proof", "verify", "-", stdin=json.dumps(forged))
    assert rejected.exit_code == 1
    assert rejected.output.startswith("INVALID: ")

    someone_else = Signer.from_base64(new_signing_key()).public_key.hex()
    wrong_key = ledger(settings, "proof", "verify", str(path), "--public-key", someone_else)
    assert wrong_key.exit_code == 1
    assert "was signed by key" in wrong_key.output


async def proof_of_first_event(settings: Settings) -> bytes:
    database = await open_database(settings)
    try:
        audit = await open_audit(settings, database)
        rows = await database.fetch("SELECT event_id FROM ledger_view_history ORDER BY position")
        proof = await audit.inclusion(UUID(rows[0]["event_id"]), None)
        return msgspec.json.encode(proof)
    finally:
        await database.close()
