"""The verification export of a ledger upgraded in place, on both backends: events of hash
schemes 1, 2 and 3, a v1 checkpoint and notes, events after the last checkpoint. It verifies
(with the ledger's verifier of exports, and with the independent one in Node.js when there is
a node) and never shows a secret: old events that hold one are withheld, new ones commit to
their secret values. An edit of a secret in the store is caught by `ledger verify` and shows
in the next export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger.audit import Checkpointer
from ledger.audit.export import export_file
from ledger.domain import commands as c
from ledger.domain.decisions import streams
from ledger.domain.names import environment_id
from ledger.domain.notes import verifier_key
from ledger.eventstore.dialect import Dialect

from ...independent_verifier import node_verify, python_verify
from .conftest import ALICE
from .test_upgrade_to_notes import CheckpointerBeforeNotes

SHOP_PROD = environment_id("shop", "prod")
SECRETS = {
    "DB_PASSWORD": "s3cr3t-scheme-1",  # secret by its name, stored under scheme 1
    "LICENCE": "s3cr3t-scheme-2",  # declared secret, stored under scheme 2
    "API_KEY": "s3cr3t-scheme-3",  # secret by its name, committed (scheme 3)
}
CONFIG = "/".join(("shop", "prod"))


async def config(story: Any, values: dict[str, str], secret: tuple[str, ...] = ()) -> None:
    command = c.ChangeConfig(app="shop", env="prod", set=values, secret=list(secret))
    await story.do(command, ALICE)


@pytest.fixture
async def upgraded(
    story: Any, store: Any, audit: Any, checkpointer: Checkpointer, monkeypatch: Any
) -> None:
    """Scheme 1 with a v1 checkpoint, then scheme 2, then scheme 3 with checkpoint notes; two
    events after the last checkpoint."""
    with monkeypatch.context() as old:
        old.setattr(streams, "HASH_SCHEME", 1)
        await story.begins()
        await config(story, {"DB_PASSWORD": SECRETS["DB_PASSWORD"]})
        await CheckpointerBeforeNotes(store, audit.database, audit.signer).catch_up()
        old.setattr(streams, "HASH_SCHEME", 2)
        await config(story, {"LICENCE": SECRETS["LICENCE"]}, secret=("LICENCE",))
        await config(story, {"MODE": "fast"})
    await story.ends()
    await config(story, {"API_KEY": SECRETS["API_KEY"]})
    rollback = c.Rollback(app="shop", env="prod", to_version=6, reason="b2 broke checkout")
    await story.do(rollback, ALICE)  # restores DB_PASSWORD and LICENCE: committed to
    await checkpointer.catch_up()
    assert await checkpointer.checkpoint() is not None
    for enabled in (False, True):
        flag = c.SetFlag(app="shop", env="prod", flag="checkout", enabled=enabled)
        await story.do(flag, ALICE)


@pytest.fixture
def export(settings: Any, store: Any, audit: Any, tmp_path: Path) -> Any:
    """Export the store now, to a new file."""
    count = 0

    def run() -> Path:
        nonlocal count
        count += 1
        path = tmp_path / f"export-{count}.ndjson"
        path.write_bytes(b"".join(export_file(settings, Dialect.of(store), audit.signer)))
        return path

    return run


@pytest.fixture
def vkey(settings: Any, audit: Any) -> str:
    return verifier_key(settings.checkpoint_origin(), audit.signer.public_key)


def salts(tamperer: Any) -> list[str]:
    return [s for row in tamperer.rows() if (s := row.event().get("commitment_salt"))]


async def test_every_scheme_verifies_and_no_secret_is_shown(
    upgraded: None, export: Any, vkey: str, tamperer: Any
) -> None:
    path = export()
    verdict = python_verify(path, vkey)
    assert verdict.ok, verdict.failures
    assert (verdict.withheld, verdict.uncovered, verdict.checkpoints) == (2, 2, 2)
    text = path.read_bytes()
    for secret in (*SECRETS.values(), *salts(tamperer)):
        assert secret.encode() not in text
    lines = [msgspec.json.decode(line) for line in text.splitlines()]
    events = [line for line in lines if line["kind"] == "event"]
    assert {e["hash_scheme"] for e in events} == {1, 2, 3}
    withheld = [e for e in events if e["form"] is None]
    assert [(e["hash_scheme"], e["withheld"]) for e in withheld] == [(1, "secret"), (2, "secret")]
    committed = [e["form"]["event"].get("committed_keys") for e in events if e["hash_scheme"] == 3]
    assert ["API_KEY"] in committed and ["DB_PASSWORD", "LICENCE"] in committed
    assert [e["leaf_index"] for e in events[-2:]] == [None, None]
    assert lines[1]["note"] is None and lines[2]["note"] is not None  # v1, then a note

    done = node_verify(path, "--key", vkey)
    assert done.returncode == 0, done.stdout
    assert "2 withheld, 2 uncovered" in done.stdout


async def test_an_edited_secret_is_caught_by_verify_and_in_the_next_export(
    upgraded: None, export: Any, vkey: str, tamperer: Any, verify: Any, named: Any
) -> None:
    row = next(r for r in tamperer.of(SHOP_PROD) if "API_KEY" in r.event().get("set", {}))
    tamperer.edit(row.position, set={"API_KEY": "changed-behind-the-ledger"})

    report = verify()
    assert not report.ok
    assert named(report, "leaf", position=row.position, stream_id=SHOP_PROD, version=row.version)

    verdict = python_verify(export(), vkey)
    failures = [f for f in verdict.failures if f.position == row.position]
    assert failures and "hashes to" in failures[0].detail
    assert b"changed-behind-the-ledger" not in export().read_bytes()


async def test_a_deleted_event_is_named_in_the_export(
    upgraded: None, export: Any, vkey: str, tamperer: Any
) -> None:
    deleted, after = tamperer.of(SHOP_PROD)[2:4]
    tamperer.delete(deleted.position)
    path = export()
    verdict = python_verify(path, vkey)
    gap = [f for f in verdict.failures if f.position == after.position]
    assert any("version" in f.detail for f in gap), verdict.failures
    done = node_verify(path, "--key", vkey)
    assert done.returncode == 1
    assert f"position {after.position} " in done.stdout
