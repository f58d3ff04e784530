"""C2SP checkpoints as signed notes: the exact text formats, pure (no I/O, no cryptography).

A **checkpoint body** (c2sp.org/tlog-checkpoint) is three lines, each ending in a newline::

    <origin>
    <tree size: ASCII decimal, no leading zero>
    <root hash: standard base64 (RFC 4648, section 4) of the 32-byte RFC 6962 root>

A **signed note** (c2sp.org/signed-note) is the body (its final newline included), an empty
line, then one line per signature::

    — <key name> <base64(key hash (4 bytes) || signature)>

that is U+2014 EM DASH, a space, the key name, a space, the base64 and a newline. For an
Ed25519 key (signature type 0x01) the key hash is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || the 32-byte public key), and the signature is Ed25519 over
the body's UTF-8 bytes. The ledger's key name is its origin. A **verifier key** names the key
as ``<name>+<key hash as 8 lowercase hex digits>+<base64(0x01 || public key)>`` (the format of
golang.org/x/mod/sumdb/note). Origins and key names are non-empty and hold no Unicode space,
no ``+`` and no control character.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from typing import NamedTuple
from urllib.parse import urlsplit

ED25519 = 0x01
"""The signed-note signature type of Ed25519."""
COSIGNATURE_V1 = 0x04
"""The signed-note signature type of timestamped Ed25519 witness cosignatures
(c2sp.org/tlog-cosignature)."""
EM_DASH = "\u2014"
SIGNATURE_PREFIX = EM_DASH + " "
KEY_HASH_SIZE = 4
DEFAULT_ORIGIN = "release-ledger"


class NoteSignature(NamedTuple):
    """One signature line of a note."""

    name: str
    key_hash: bytes
    signature: bytes


class CheckpointBody(NamedTuple):
    """The three lines of a checkpoint body."""

    origin: str
    tree_size: int
    root_hash: bytes


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an origin or key name, or None when it can."""
    if not name:
        return "it is empty"
    for char in name:
        if char.isspace():
            return f"it holds a space ({_named(char)})"
        if char == "+":
            return 'it holds a "+"'
        if unicodedata.category(char) in ("Cc", "Cs"):
            return f"it holds the control character {_named(char)}"
    return None


def _named(char: str) -> str:
    return f"U+{ord(char):04X}"


def default_origin(public_url: str | None) -> str:
    """The origin of a ledger without LEDGER_LOG_ORIGIN: its public URL without the scheme,
    the credentials and a trailing slash (``ledger.example.com/prod``), else DEFAULT_ORIGIN."""
    try:
        parts = urlsplit(public_url or "")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is no number
        return DEFAULT_ORIGIN
    origin = f"{host}{f':{port}' if port else ''}{parts.path.rstrip('/')}"
    return origin if host and name_problem(origin) is None else DEFAULT_ORIGIN


def checkpoint_body(origin: str, tree_size: int, root_hash: bytes) -> str:
    """The checkpoint body of a tree (the text a signature covers)."""
    root = base64.b64encode(root_hash).decode()
    return f"{origin}\n{tree_size}\n{root}\n"


def parse_checkpoint_body(body: str) -> CheckpointBody:
    """The origin, size and root of a checkpoint body; ValueError when it is not one.
    Extension lines (a fourth line on) are allowed and not read."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or "" in lines[:-1]:
        raise ValueError("a checkpoint body is three or more non-empty lines, each ending in \\n")
    origin, size, root = lines[:3]
    if (problem := name_problem(origin)) is not None:
        raise ValueError(f"the origin {origin!r} is not valid: {problem}")
    tree_size = parse_decimal(size, "tree size")
    return CheckpointBody(origin, tree_size, decoded_base64(root, 32, "root hash"))


def parse_decimal(text: str, what: str) -> int:
    """A size in ASCII decimal without a leading zero (``0`` alone); ValueError otherwise."""
    if not (text.isascii() and text.isdigit()) or (text != "0" and text.startswith("0")):
        raise ValueError(f"the {what} {text!r} is not a decimal number")
    return int(text)


def key_hash(name: str, public_key: bytes, signature_type: int = ED25519) -> bytes:
    """The key hash of an Ed25519 key: SHA-256(name || 0x0A || type || public key)[:4], the
    type 0x01 for a note signature, 0x04 (COSIGNATURE_V1) for a witness's cosignature."""
    data = name.encode() + b"\n" + bytes([signature_type]) + public_key
    return hashlib.sha256(data).digest()[:KEY_HASH_SIZE]


def verifier_key(name: str, public_key: bytes, signature_type: int = ED25519) -> str:
    """The verifier key text of an Ed25519 key: ``name+hash+base64(type || key)``."""
    encoded = base64.b64encode(bytes([signature_type]) + public_key).decode()
    return f"{name}+{key_hash(name, public_key, signature_type).hex()}+{encoded}"


def parse_verifier_key(text: str, signature_type: int = ED25519) -> tuple[str, bytes]:
    """The name and the 32-byte Ed25519 public key of a verifier key of the signature type
    (0x01: a log's key; 0x04: a witness's cosigning key); ValueError otherwise."""
    name, _, rest = text.strip().partition("+")
    hashed, _, encoded = rest.partition("+")
    if (problem := name_problem(name)) is not None:
        raise ValueError(f"the verifier key's name is not valid: {problem}")
    raw = decoded_base64(encoded, 33, "verifier key")
    if raw[0] != signature_type:
        raise ValueError(f"the verifier key's type is {raw[0]:#04x}, not {_TYPES[signature_type]}")
    if len(hashed) != 8 or hashed.lower() != key_hash(name, raw[1:], signature_type).hex():
        raise ValueError("the verifier key's hash is not the hash of its name and key")
    return name, raw[1:]


_TYPES = {ED25519: "Ed25519 (0x01)", COSIGNATURE_V1: "a witness cosignature key (0x04)"}


def signature_line(signature: NoteSignature) -> str:
    """One signature line: ``— name base64(key hash || signature)`` and a newline."""
    encoded = base64.b64encode(signature.key_hash + signature.signature).decode()
    return f"{SIGNATURE_PREFIX}{signature.name} {encoded}\n"


def signed_note(body: str, signatures: list[NoteSignature]) -> str:
    """The note of a body and its signatures (the body alone when there are none)."""
    if not signatures:
        return body
    return body + "\n" + "".join(signature_line(s) for s in signatures)


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """The body of a signed note and its signatures; ValueError when it is malformed. The
    body ends at the note's last empty line; a text without one is a body with no signature."""
    if any(unicodedata.category(c) == "Cs" or (c < " " and c != "\n") for c in note):
        raise ValueError("a note holds no control character but newlines, and no surrogate")
    end = note.rfind("\n\n")
    if end < 0:
        return note, []
    body, lines = note[: end + 1], note[end + 2 :]
    if not lines.endswith("\n"):
        raise ValueError("a note's last signature line ends with a newline")
    return body, [parse_signature_line(line) for line in lines[:-1].split("\n")]


def parse_signature_line(line: str) -> NoteSignature:
    """One signature line (without its newline); ValueError when it is not one."""
    name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
    if not line.startswith(SIGNATURE_PREFIX) or name_problem(name) is not None:
        raise ValueError(f"not a signature line: {line!r}")
    raw = decoded_base64(encoded, None, "signature")
    if len(raw) <= KEY_HASH_SIZE:
        raise ValueError(f"the signature of {name} is too short")
    return NoteSignature(name, raw[:KEY_HASH_SIZE], raw[KEY_HASH_SIZE:])


def decoded_base64(text: str, size: int | None, what: str) -> bytes:
    """Standard base64 (canonical: it encodes back to the same text) of ``size`` bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(f"the {what} is not standard base64") from None
    if base64.b64encode(raw).decode() != text or (size is not None and len(raw) != size):
        raise ValueError(f"the {what} is not the base64 of {size or 'some'} bytes")
    return raw
