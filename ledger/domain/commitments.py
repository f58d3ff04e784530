"""Secret config values in hashed events: committed to, never hashed in plain text (scheme 3).

An event that carries config values (a config change's ``set``, a rollback's
``restored_config``, a requested config change's ``command.set``) keeps them in plain text in
the store, where the ledger needs them. When it is made, the keys secret at that moment (declared
secret in the environment or by the event, or matching a secret pattern) are recorded in
``committed_keys``, with a fresh random ``commitment_salt`` of 32 bytes. The event's **hashed
form** (what scheme 3 hashes, and what an export shows) is the event with the salt left out and
each committed value replaced by ``<commitment:HEX>``, HEX being

    HMAC-SHA256(key = salt, message = config key || 0x00 || value)

in lowercase hex. A third party checks the hash over the form without ever seeing a secret;
the ledger, which holds the salt, recomputes the commitments from the stored values, so an edit
of a secret in the store changes the hash. Pure: the salt comes from ``secrets`` as event ids
come from ``uuid4``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import TypeVar

import msgspec

from ledger.domain.commands import ChangeConfig
from ledger.domain.events import ConfigChanged, LedgerEvent, ReleaseCreated
from ledger.domain.gate_events import ChangeRequested
from ledger.domain.secrets import is_secret

E = TypeVar("E", bound=LedgerEvent)
COMMITTED_SCHEME = 3
"""The hash scheme whose hash covers commitments (``ledger.domain.chain``)."""
SALT_BYTES = 32
COMMITMENT_PREFIX = "<commitment:"
COMMITMENT_SUFFIX = ">"


def commitment(salt: bytes, key: str, value: str) -> str:
    """The commitment to one config value: HMAC-SHA256(salt, key || 0x00 || value), in hex."""
    message = key.encode() + b"\x00" + value.encode()
    return hmac.new(salt, message, hashlib.sha256).hexdigest()


def committed_value(salt: bytes, key: str, value: str) -> str:
    """What the hashed form shows for a committed value: ``<commitment:HEX>``."""
    return f"{COMMITMENT_PREFIX}{commitment(salt, key, value)}{COMMITMENT_SUFFIX}"


def config_of(event: LedgerEvent) -> dict[str, str] | None:
    """The config values an event carries, or None when it carries none."""
    if isinstance(event, ConfigChanged):
        return event.set
    if isinstance(event, ReleaseCreated):
        return event.restored_config
    if isinstance(event, ChangeRequested) and isinstance(event.command, ChangeConfig):
        return dict(event.command.set)
    return None


def declared_by(event: LedgerEvent) -> tuple[str, ...]:
    """The keys the event itself declares secret."""
    if isinstance(event, ConfigChanged):
        return event.secret_keys
    if isinstance(event, ReleaseCreated):
        return event.restored_secret_keys or ()
    if isinstance(event, ChangeRequested) and isinstance(event.command, ChangeConfig):
        return tuple(event.command.secret)
    return ()


def secret_in(event: LedgerEvent, declared: Iterable[str]) -> list[str]:
    """The keys of the event's config values that are secret, sorted: declared secret (in the
    environment: ``declared``, or by the event), or matching a secret pattern."""
    config = config_of(event) or {}
    secret = {*declared, *declared_by(event)}
    return sorted(key for key in config if is_secret(key, secret))


def commit_secrets(event: E, declared: Iterable[str]) -> E:
    """The event as it is made: its secret values committed to (unchanged when it has none,
    or when its hash scheme, older, would not cover commitments). ``declared``: the keys the
    environment declares secret when the event is made."""
    keys = secret_in(event, declared)
    if not keys or event.hash_scheme < COMMITTED_SCHEME:
        return event
    salt = secrets.token_hex(SALT_BYTES)
    return msgspec.structs.replace(event, committed_keys=tuple(keys), commitment_salt=salt)


def hashed_form(event: E) -> E:
    """The event as its hash covers it and an export shows it: of scheme 3, without its salt,
    each committed value replaced by its commitment (ValueError when it names commitments
    without a salt); of an older scheme, the event as it is."""
    if not event.committed_keys or event.hash_scheme < COMMITTED_SCHEME:
        return event
    if event.commitment_salt is None:
        raise ValueError("the event commits to secret values but holds no salt")
    salt = bytes.fromhex(event.commitment_salt)
    committed = set(event.committed_keys)
    config = config_of(event) or {}
    shown = {k: committed_value(salt, k, v) if k in committed else v for k, v in config.items()}
    return msgspec.structs.replace(_with_config(event, shown), commitment_salt=None)


def _with_config(event: E, config: dict[str, str]) -> E:
    if isinstance(event, ConfigChanged):
        return msgspec.structs.replace(event, set=config)
    if isinstance(event, ReleaseCreated):
        return msgspec.structs.replace(event, restored_config=config)
    if isinstance(event, ChangeRequested) and isinstance(event.command, ChangeConfig):
        command = msgspec.structs.replace(event.command, set=config)
        return msgspec.structs.replace(event, command=command)
    return event
