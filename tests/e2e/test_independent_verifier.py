"""A third party verifies a real ledger with a verifier of its own: a server on SQLite with a
realistic history (builds, a secret config change and its rotation, a canary, a migration, a
rollback that restores the old secret, an idempotent write), checkpointed; its export from
`ledger audit export` and its proofs over HTTP verify with tests/verifier/verify.mjs (Node.js,
written from docs/verification.md alone) and with `ledger audit verify-export`. Every edit of
the file, and an edit of the store behind the server, is found and located by both."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..independent_verifier import node, node_verify
from .conftest import Api, Cli, LedgerServer, base_environ, running_on

pytestmark = pytest.mark.e2e

CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}
ALICE = {"X-Ledger-Actor": "alice"}
SHOP, PROD = "/v1/apps/shop", "/v1/apps/shop/envs/prod"
PASSWORD, ROTATED, LICENCE = "s3cr3t-first-password", "s3cr3t-rotated", "s3cr3t-licence"


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: the export reads either backend through the same code (the integration
    tests run it on both); the store is tampered with through its file."""
    return "sqlite"


@pytest.fixture(scope="module")
def shared_server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LedgerServer]:
    """A server that checkpoints a new event within 0.2 s."""
    workdir = tmp_path_factory.mktemp("ledger-verifier")
    with running_on(backend, request, workdir, LEDGER_CHECKPOINT_SECONDS="0.2") as server:
        yield server


def build(build_id: str) -> dict[str, Any]:
    commit = hashlib.sha1(build_id.encode()).hexdigest()
    return {
        "build_id": build_id,
        "commit": commit,
        "artifact": {"digest": f"sha256:{commit:0<64}"},
        "status": "succeeded",
        "pipeline": {"name": "main", "run_id": f"run-{build_id}"},
    }


def checkpointed(api: Api) -> dict[str, Any]:
    """Wait until the latest checkpoint covers every event; return it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        head = api.get("/readyz").json["head"]
        latest = api.get("/v1/checkpoints/latest")
        if latest.status == 200 and latest.json["tree_size"] == head:
            return dict(latest.json)
        time.sleep(0.1)
    raise AssertionError("no checkpoint covered the log's head")


@pytest.fixture(scope="module")
def story(api: Api) -> dict[str, Any]:
    """The history; returns the secret config change's event, the first checkpoint and the
    latest (with the verifier key)."""
    api.write("POST", "/v1/apps", {"name": "shop"}, headers=ALICE)
    first = checkpointed(api)
    api.write("POST", "/v1/apps", {"name": "api"}, headers=ALICE)
    for build_id in ("b1", "b2", "b3"):
        api.write("POST", f"{SHOP}/builds", build(build_id), headers=CI)
    values = {"DB_HOST": "db.internal", "DB_PASSWORD": PASSWORD, "LICENCE": LICENCE}
    secret = api.write("POST", f"{PROD}/config", {"set": values, "secret": ["LICENCE"]}, headers=CI)
    api.write("POST", f"{PROD}/deploys", {"build_id": "b1"}, headers=CI)  # v2
    flag = {"enabled": True, "rollout_percent": 10}
    api.write("PUT", f"{PROD}/flags/checkout", flag, headers=ALICE)
    migration = {"migration_id": "m1", "schema_version": 7, "reversible": True}
    api.write("POST", f"{PROD}/migrations", migration, headers=CI)
    canary = {"build_id": "b2", "strategy": "canary", "steps": [10, 50, 100]}
    api.write("POST", f"{PROD}/deploys", canary, headers=CI)  # v3
    for step in ({"percent": 50}, {"status": "completed"}):
        api.write("POST", f"{PROD}/releases/3/rollout", step, headers=CI)
    api.write("POST", f"{PROD}/config", {"set": {"DB_PASSWORD": ROTATED}}, headers=CI)  # v4
    once = CI | {"Idempotency-Key": "deploy-b3"}
    api.write("POST", f"{PROD}/deploys", {"build_id": "b3"}, headers=once)  # v5
    rollback = {"to_version": 2, "reason": "b3 broke checkout"}
    api.write("POST", f"{PROD}/rollback", rollback, headers=ALICE)  # restores PASSWORD
    api.write("POST", "/v1/apps/shop/envs/staging/deploys", {"build_id": "b1"}, headers=CI)
    return {"secret": secret, "first": first, "latest": checkpointed(api)}


@pytest.fixture(scope="module")
def vkey(story: dict[str, Any]) -> str:
    """The ledger's verifier key, pinned by the auditor (here: from the checkpoint's JSON)."""
    return str(story["latest"]["verifier_key"])


@pytest.fixture(scope="module")
def exported(
    story: dict[str, Any], shared_server: LedgerServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return export_to(shared_server, tmp_path_factory.mktemp("export") / "ledger-audit.ndjson")


def export_to(server: LedgerServer, path: Path) -> Path:
    done = Cli(base_environ())("audit", "export", "-o", str(path), LEDGER_URL=server.url)
    assert done.returncode == 0, done.stderr
    return path


def ledger_verify_export(path: Path, *args: str) -> Any:
    return Cli(base_environ())("audit", "verify-export", str(path), *args)


def test_the_export_verifies_independently_and_shows_no_secret(exported: Path, vkey: str):
    done = node_verify(exported, "--key", vkey)
    assert done.returncode == 0, done.stdout
    assert "0 withheld, 0 uncovered" in done.stdout and done.stdout.endswith("ok\n")
    ours = ledger_verify_export(exported, "--key", vkey)
    assert ours.returncode == 0, ours.stdout
    text = exported.read_text(encoding="utf-8")
    assert not [s for s in (PASSWORD, ROTATED, LICENCE) if s in text]
    # DB_PASSWORD and LICENCE set, DB_PASSWORD rotated, both restored by the rollback
    assert text.count("<commitment:") == 5


def test_proofs_fetched_over_http_verify_with_it(
    api: Api, story: dict[str, Any], exported: Path, vkey: str, tmp_path: Path
) -> None:
    event_id, first = story["secret"]["event_id"], story["first"]["tree_size"]
    size = story["latest"]["tree_size"]
    inclusion = api.get(f"/v1/events/{event_id}/proof", tree_size=size)
    consistency = api.get(f"/v1/checkpoints/{first}/consistency/{size}")
    files = {"inclusion": inclusion.body, "consistency": consistency.body}
    for name, body in files.items():
        (tmp_path / f"{name}.json").write_bytes(body)
    proofs = [
        "--proof",
        str(tmp_path / "inclusion.json"),
        "--proof",
        str(tmp_path / "consistency.json"),
    ]
    done = node_verify(exported, "--key", vkey, *proofs)
    assert done.returncode == 0, done.stdout
    assert "2 proofs" in done.stdout

    forged = json.loads(inclusion.body)
    forged["audit_path"][0] = "00" * 32
    (tmp_path / "inclusion.json").write_text(json.dumps(forged))
    done = node_verify(exported, "--key", vkey, *proofs)
    assert done.returncode == 1 and "does not lead from leaf" in done.stdout


def edit_event(lines: list[str]) -> tuple[list[str], str]:
    index = next(i for i, line in enumerate(lines) if '"type":"ConfigChanged"' in line)
    edited = lines[index].replace('"actor":"ci-bot"', '"actor":"mallory"', 1)
    assert edited != lines[index]
    return [*lines[:index], edited, *lines[index + 1 :]], f"position {position(lines[index])} "


def delete_event(lines: list[str]) -> tuple[list[str], str]:
    index = next(i for i, line in enumerate(lines) if '"type":"ReleaseCreated"' in line)
    return [*lines[:index], *lines[index + 1 :]], f"position {position(lines[index + 1])} "


def swap_events(lines: list[str]) -> tuple[list[str], str]:
    index = next(i for i, line in enumerate(lines) if '"type":"RolloutProgressed"' in line)
    swapped = [*lines[:index], lines[index + 1], lines[index], *lines[index + 2 :]]
    return swapped, f"position {position(lines[index])} "


def edit_note(lines: list[str]) -> tuple[list[str], str]:
    index = max(i for i, line in enumerate(lines) if '"kind":"checkpoint"' in line)
    checkpoint = json.loads(lines[index])
    body, _, signatures = checkpoint["note"].rpartition("\n\n")
    origin, size, _ = body.split("\n")
    forged = "\n".join((origin, size, base64.b64encode(bytes(32)).decode()))
    checkpoint["note"] = f"{forged}\n\n{signatures}"
    lines = [*lines[:index], json.dumps(checkpoint, ensure_ascii=False), *lines[index + 1 :]]
    return lines, f"checkpoint {size}"


def position(line: str) -> int:
    return int(json.loads(line)["position"])


@pytest.mark.parametrize(
    "tamper", [edit_event, delete_event, swap_events, edit_note], ids=lambda f: f.__name__
)
def test_an_edited_export_is_caught_and_located_by_both_verifiers(
    exported: Path, vkey: str, tmp_path: Path, tamper: Callable[..., Any]
) -> None:
    lines, where = tamper(exported.read_text(encoding="utf-8").splitlines())
    path = tmp_path / "tampered.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = node_verify(path, "--key", vkey)
    assert done.returncode == 1
    assert any(line.startswith("FAIL") and where in line for line in done.stdout.splitlines())
    ours = ledger_verify_export(path, "--key", vkey)
    assert ours.returncode == 1
    assert any(line.startswith("FAILED") and where in line for line in ours.stdout.splitlines())


def cosigned(
    lines: list[str],
    key: Ed25519PrivateKey,
    name: str,
    t: int,
    signed_by: Ed25519PrivateKey | None = None,
) -> list[str]:
    """The export with its latest checkpoint cosigned by the witness ``name`` with ``key``,
    as c2sp.org/tlog-cosignature says (``signed_by``: a forger's key in its place)."""
    index = max(i for i, line in enumerate(lines) if '"kind":"checkpoint"' in line)
    checkpoint = json.loads(lines[index])
    body = checkpoint["note"][: checkpoint["note"].rindex("\n\n") + 1]
    public = key.public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    signature = (signed_by or key).sign(f"cosignature/v1\ntime {t}\n{body}".encode())
    blob = base64.b64encode(key_id + t.to_bytes(8, "big") + signature).decode()
    checkpoint["note"] += f"\u2014 {name} {blob}\n"
    return [*lines[:index], json.dumps(checkpoint, ensure_ascii=False), *lines[index + 1 :]]


def witness_key(key: Ed25519PrivateKey, name: str) -> str:
    typed = b"\x04" + key.public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4]
    return f"{name}+{key_id.hex()}+{base64.b64encode(typed).decode()}"


def test_cosignatures_count_towards_the_quorum(exported: Path, vkey: str, tmp_path: Path):
    node()
    w1, w2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    k1, k2 = witness_key(w1, "witness.example.org/w1"), witness_key(w2, "witness.example.net")
    lines = cosigned(exported.read_text().splitlines(), w1, "witness.example.org/w1", 1767225600)
    path = tmp_path / "cosigned.ndjson"
    path.write_text("\n".join(lines) + "\n")

    one = node_verify(path, "--key", vkey, "--witness", k1, "--witness", k2, "--quorum", "1")
    assert one.returncode == 0 and "cosigned by witness.example.org/w1" in one.stdout
    two = node_verify(path, "--key", vkey, "--witness", k1, "--witness", k2, "--quorum", "2")
    assert two.returncode == 1 and "fewer than 2" in two.stdout
    ours = ledger_verify_export(path, "--key", vkey, "--witness", k1, "--witness", k2)
    assert ours.returncode == 1 and "fewer than 2" in ours.stdout

    lines = exported.read_text().splitlines()
    forged = cosigned(lines, w1, "witness.example.org/w1", 1767225600, signed_by=w2)
    path.write_text("\n".join(forged) + "\n")
    bad = node_verify(path, "--key", vkey, "--witness", k1, "--quorum", "1")
    assert bad.returncode == 1 and "cosignature of witness.example.org/w1" in bad.stdout


def test_a_store_edited_behind_the_server_shows_in_the_next_export(
    shared_server: LedgerServer, story: dict[str, Any], vkey: str, tmp_path: Path, cli: Cli
) -> None:
    """Last in the module: it tampers with the store (the secret of the first config change)."""
    store = shared_server.workdir / "data" / "ledger.sqlite"
    target = story["secret"]["position"]
    with sqlite3.connect(store) as db:
        (state,) = db.execute(
            "SELECT state FROM stored_events WHERE rowid = ?", (target,)
        ).fetchone()
        event = json.loads(state)
        event["set"]["DB_PASSWORD"] = "changed-behind-the-ledger"
        db.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (json.dumps(event, separators=(",", ":")).encode(), target),
        )
    path = export_to(shared_server, tmp_path / "after.ndjson")
    assert b"changed-behind-the-ledger" not in path.read_bytes()
    done = node_verify(path, "--key", vkey)
    assert done.returncode == 1
    assert f"position {target} " in done.stdout and "hashes to" in done.stdout

    verified = cli("verify", "--jobs", "1", LEDGER_DATA_DIR=str(shared_server.workdir / "data"))
    assert verified.returncode == 1
    assert f"position {target} " in verified.stdout
