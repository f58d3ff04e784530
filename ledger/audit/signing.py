"""Ed25519 signatures of checkpoints: the key, its id, and the exact statement that is signed.

The key is LEDGER_SIGNING_KEY (base64 of the 32-byte private key). In embedded mode (no
LEDGER_DATABASE_URL) without it, a key is generated on first start into
``LEDGER_DATA_DIR/signing.key`` (mode 0600). With PostgreSQL and no key, checkpoints are
written unsigned: the verifier still checks them against the events, but a third party cannot
tell them from forgeries.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.domain.notes import parse_verifier_key
from ledger.settings import Settings

KEY_FILE = "signing.key"
STATEMENT_HEADER = "release-ledger checkpoint v1"


def checkpoint_statement(tree_size: int, root_hash: str, created_at: str) -> bytes:
    """The bytes a checkpoint's signature covers: four lines of text."""
    lines = (STATEMENT_HEADER, f"tree_size {tree_size}", f"root_hash {root_hash}")
    return "\n".join((*lines, f"created_at {created_at}", "")).encode()


def key_id_of(public_key: bytes) -> str:
    """A key's short name: the first 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


class Signer:
    """Signs checkpoint statements with one Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key().public_bytes_raw()
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def from_base64(cls, text: str) -> Signer:
        """The signer of a base64-encoded 32-byte private key (LEDGER_SIGNING_KEY's format)."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except binascii.Error:
            raise ValueError("the signing key is not valid base64") from None
        if len(raw) != 32:
            raise ValueError(f"the signing key must be 32 bytes, not {len(raw)}")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def sign(self, statement: bytes) -> str:
        """The hex-encoded signature of ``statement``."""
        return self.sign_bytes(statement).hex()

    def sign_bytes(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._private_key.sign(message)


def new_signing_key() -> str:
    """A fresh Ed25519 private key, base64-encoded, for LEDGER_SIGNING_KEY."""
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    return base64.b64encode(raw).decode()


def signature_is_valid(public_key: bytes, statement: bytes, signature: str) -> bool:
    """True when ``signature`` (hex) is the key's signature of ``statement``."""
    try:
        return ed25519_is_valid(public_key, statement, bytes.fromhex(signature))
    except ValueError:
        return False


def ed25519_is_valid(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is the key's Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


class PinnedKey(NamedTuple):
    """A public key an auditor pins, and the key name when a verifier key named it."""

    public_key: bytes
    name: str | None = None


def parse_pinned_key(text: str) -> PinnedKey:
    """A raw public key in hex or base64, or a note verifier key (``name+hash+base64``,
    which pins the key name too)."""
    try:
        return PinnedKey(parse_public_key(text))
    except ValueError as error:
        if text.count("+") < 2:
            raise
        first = error
    try:
        name, public_key = parse_verifier_key(text)
    except ValueError as error:
        raise ValueError(f"{first}, nor a verifier key: {error}") from None
    return PinnedKey(public_key, name)


def parse_public_key(text: str) -> bytes:
    """A raw 32-byte public key from hex (as the API shows it) or base64."""
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise ValueError("the public key is neither hex nor base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return raw


def load_signer(settings: Settings, signing_key: str | None, *, create: bool) -> Signer | None:
    """The configured signer: ``signing_key`` if given, else the embedded key file (generated
    when ``create`` and missing), else None (PostgreSQL without a key: unsigned checkpoints)."""
    if signing_key:
        return Signer.from_base64(signing_key)
    if not settings.embedded:
        return None
    return file_signer(settings.data_dir / KEY_FILE, create=create)


def file_signer(path: Path, *, create: bool) -> Signer | None:
    """The signer of a key file (base64 of the private key), generated (mode 0600) when
    ``create`` and missing; None when it is missing."""
    if not path.exists():
        if not create:
            return None
        _write_new_key(path)
    return Signer.from_base64(path.read_text())


def _write_new_key(path: Path) -> None:
    """Create the key file, readable by its owner only, without ever replacing one: the key is
    written to a private temporary file, then linked into place (atomic, fails if it exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(new_signing_key() + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process of this ledger was first
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
