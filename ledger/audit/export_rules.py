"""The rules of docs/verification.md for one line of an export, on its own (no state): a line
is I-JSON, an event's form agrees with its line and hashes to its hash, a checkpoint's note
is its tree's, signed by the log's key (and cosigned by witnesses)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ledger.audit.cosigned import cosigners, log_signature_problem
from ledger.audit.cosigning import WitnessKey
from ledger.audit.jcs import canonical
from ledger.audit.signing import PinnedKey, checkpoint_statement, signature_is_valid
from ledger.domain.notes import parse_checkpoint_body, split_note

HEX64 = re.compile(r"[0-9a-f]{64}")


class Malformed(ValueError):
    """A line that is not what the format says."""


def parse_line(text: str) -> dict[str, Any]:
    """One line: a JSON object without duplicate member names (I-JSON)."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise Malformed("a member name appears twice in one object")
        return dict(pairs)

    def no_constant(name: str) -> None:
        raise Malformed(f"{name} is not JSON")

    try:
        value = json.loads(text, object_pairs_hook=unique, parse_constant=no_constant)
    except json.JSONDecodeError as error:
        raise Malformed(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    return value


def count(line: dict[str, Any], name: str, *, nullable: bool = False) -> int | None:
    """A member that is a non-negative integer (or null when ``nullable``)."""
    value = line.get(name)
    if value is None and nullable:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Malformed(f"{name} is not a non-negative integer")
    return value


def hash_member(line: dict[str, Any], name: str, *, nullable: bool = False) -> str | None:
    """A member that is a SHA-256 hash in lowercase hex (or null when ``nullable``)."""
    value = line.get(name)
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not HEX64.fullmatch(value):
        raise Malformed(f"{name} is not 64 lowercase hex digits")
    return value


def event_hash_of(scheme: int, form: dict[str, Any]) -> str:
    """An event's hash from its form: scheme 1 SHA-256(type || 0x0A || JCS(event)), schemes 2
    and 3 SHA-256(JCS(form))."""
    if scheme == 1:
        return hashlib.sha256(form["type"].encode() + b"\n" + canonical(form["event"])).hexdigest()
    if scheme in (2, 3):
        return hashlib.sha256(canonical(form)).hexdigest()
    raise Malformed(f"hash scheme {scheme} is not one this specification knows")


def form_problems(line: dict[str, Any]) -> list[str]:
    """Why an event line's form does not agree with the line or does not hash to its hash."""
    form = line["form"]
    if not isinstance(form, dict) or set(form) != {"event", "type"}:
        return ['the form is not an object of the two members "event" and "type"']
    event, problems = form["event"], []
    if not isinstance(event, dict):
        return ['the form\'s "event" is not an object']
    expected = {
        "type": (form["type"], line.get("type")),
        "originator_id": (event.get("originator_id"), line.get("stream_id")),
        "originator_version": (event.get("originator_version"), line.get("version")),
        "prev_hash": (event.get("prev_hash"), line.get("prev_hash")),
        "hash_scheme": (event.get("hash_scheme", 1), line.get("hash_scheme")),
    }
    for name, (inside, outside) in expected.items():
        if inside != outside:
            problems.append(f"the form's {name} is {inside!r} but the line's is {outside!r}")
    hashed = event_hash_of(line["hash_scheme"], form)
    if hashed != line["hash"]:
        problems.append(f"the form hashes to {hashed}, not to the line's hash {line['hash']}")
    return problems


def checkpoint_problems(
    line: dict[str, Any], origin: str, key: PinnedKey | None, *, allow_unsigned: bool
) -> list[str]:
    """Why a checkpoint line is not a checkpoint of its tree signed by the log's key."""
    if line.get("note") is None:
        return _v1_problems(line, key, allow_unsigned)
    body, signatures = split_note(str(line["note"]))
    tree = parse_checkpoint_body(body)
    problems = []
    if (tree.tree_size, tree.root_hash.hex()) != (line["tree_size"], line["root_hash"]):
        problems.append(f"its note is of tree {tree.tree_size} {tree.root_hash.hex()}")
    if tree.origin != origin:
        problems.append(f"its note's origin is {tree.origin!r}, not the export's {origin!r}")
    if key is None:
        return problems
    if not signatures and allow_unsigned:
        return problems
    problem = log_signature_problem(body, signatures, key.name or origin, key.public_key)
    return problems + ([] if problem is None else [problem])


def _v1_problems(line: dict[str, Any], key: PinnedKey | None, allow_unsigned: bool) -> list[str]:
    """A checkpoint made before notes: Ed25519 over its four-line statement."""
    if line.get("signature") is None:
        return [] if allow_unsigned else ["it is not signed"]
    if key is None:
        return []
    size, root, created_at = line["tree_size"], line["root_hash"], line["created_at"]
    statement = checkpoint_statement(size, root, created_at)
    if signature_is_valid(key.public_key, statement, str(line["signature"])):
        return []
    return ["its v1 signature does not verify"]


def cosigned_by(line: dict[str, Any], witnesses: list[WitnessKey]) -> tuple[list[str], list[str]]:
    """The witnesses whose cosignature on the checkpoint's note verifies, and the problems."""
    if line.get("note") is None or not witnesses:
        return [], []
    body, signatures = split_note(str(line["note"]))
    return cosigners(body, signatures, witnesses)
