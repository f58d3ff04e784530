"""docs/verification.md's worked example is true: its export is the file the tests keep, both
verifiers accept it with the keys the document derives, and every number it works out is what
the rules it states give."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ...independent_verifier import node_verify, python_verify

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "verification.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "tests" / "verifier" / "example"
SALT = "182d11e1b05a8eec2a144a1955dd3df356894864fdf2165554514ea62a6042fb"


def public_key(seed_text: bytes) -> bytes:
    seed = hashlib.sha256(seed_text).digest()
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def vkey(name: str, kind: int, key: bytes) -> str:
    key_id = hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + key).digest()[:4]
    return f"{name}+{key_id.hex()}+{base64.b64encode(bytes([kind]) + key).decode()}"


LEDGER_KEY = vkey(
    "ledger.example.com/demo", 1, public_key(b"release-ledger example: the ledger's key")
)
WITNESS_KEY = vkey(
    "witness.example.org/w1", 4, public_key(b"release-ledger example: a witness's key")
)


def test_the_documented_export_is_the_example_file() -> None:
    block = re.search(
        r"\(`tests/verifier/example/export.ndjson`\):\n\n```json\n(.*?)```", DOC, re.S
    )
    assert block is not None
    assert block.group(1) == (EXAMPLE / "export.ndjson").read_text(encoding="utf-8")
    assert LEDGER_KEY in DOC and WITNESS_KEY in DOC


def test_both_verifiers_accept_the_example_with_the_documented_keys() -> None:
    verdict = python_verify(EXAMPLE / "export.ndjson", LEDGER_KEY, (WITNESS_KEY,), 1)
    assert verdict.ok, verdict.failures
    assert verdict.cosigned_by == ["witness.example.org/w1"]
    proofs = (
        "--proof",
        str(EXAMPLE / "inclusion.json"),
        "--proof",
        str(EXAMPLE / "consistency.json"),
    )
    done = node_verify(
        EXAMPLE / "export.ndjson", "--key", LEDGER_KEY, "--witness", WITNESS_KEY, *proofs
    )
    assert done.returncode == 0, done.stdout
    assert "cosigned by witness.example.org/w1" in done.stdout


def test_the_worked_numbers_follow_from_the_rules() -> None:
    lines = [json.loads(line) for line in (EXAMPLE / "export.ndjson").read_text().splitlines()]
    events = [line for line in lines if line["kind"] == "event"]
    leaves = []
    for event in events:
        form = json.dumps(event["form"], ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        assert hashlib.sha256(form.encode()).hexdigest() == event["hash"]
        assert f"`{event['hash']}`" in DOC
        data = event["position"].to_bytes(8, "big") + bytes.fromhex(event["hash"])
        leaves.append(hashlib.sha256(b"\x00" + data).digest())
        assert f"`{leaves[-1].hex()}`" in DOC
    inner = hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    root = hashlib.sha256(b"\x01" + inner + leaves[2]).digest()
    assert f"`{inner.hex()}`" in DOC and f"`{root.hex()}`" in DOC
    assert root.hex() == lines[2]["root_hash"]

    message = b"DB_PASSWORD\x00correct horse"
    opened = hmac.new(bytes.fromhex(SALT), message, hashlib.sha256).hexdigest()
    assert f"<commitment:{opened}>" == events[1]["form"]["event"]["set"]["DB_PASSWORD"]
    assert f"`{SALT}`" in DOC and f"`{opened}`" in DOC
