"""Which config values are secret, and the fingerprint that stands in for them."""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
from collections.abc import Iterable
from typing import TypeVar

import msgspec
from msgspec import Struct

from ledger.domain.commands import ChangeConfig
from ledger.domain.events import ConfigChanged, LedgerEvent, ReleaseCreated
from ledger.domain.gate_events import ChangeRequested

E = TypeVar("E", bound=LedgerEvent)
SECRET_PATTERNS = ("*_SECRET", "*_TOKEN", "*_PASSWORD", "*_KEY", "DATABASE_URL")


def is_secret(key: str, declared: Iterable[str] = ()) -> bool:
    """A key is secret when declared so, or when its name matches a secret pattern."""
    upper = key.upper()
    return key in set(declared) or any(fnmatch.fnmatchcase(upper, p) for p in SECRET_PATTERNS)


class Fingerprints(Struct, frozen=True):
    """Fingerprints made with one ledger's own HMAC key (without it a fingerprint cannot be
    matched to a guess): a value handed to whatever shows config, one per ledger."""

    key: bytes

    def fingerprint(self, value: str) -> str:
        """A short, stable stand-in for a secret value: changes stay visible, the value does
        not. Keyed (HMAC-SHA256), so a weak password cannot be recovered by hashing guesses."""
        digest = hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()
        return f"<secret:{digest[:16]}>"

    def redact(self, config: dict[str, str], declared: Iterable[str]) -> dict[str, str]:
        """The config with every secret value replaced by its fingerprint."""
        secret = set(declared)
        return {k: self.fingerprint(v) if is_secret(k, secret) else v for k, v in config.items()}

    def redact_event(self, event: E, secret_keys: Iterable[str]) -> E:
        """A copy of the event with the config values of secret keys replaced by fingerprints.

        ``secret_keys`` are the keys declared secret once the event applies; keys the event
        itself declares secret, and keys matching a secret pattern, are redacted too.
        """
        if isinstance(event, ConfigChanged):
            secret = {*secret_keys, *event.secret_keys}
            return msgspec.structs.replace(event, set=self.redact(event.set, secret))
        if isinstance(event, ChangeRequested) and isinstance(event.command, ChangeConfig):
            secret = {*secret_keys, *event.command.secret}
            command = event.command
            redacted = msgspec.structs.replace(command, set=self.redact(command.set, secret))
            return msgspec.structs.replace(event, command=redacted)
        if isinstance(event, ReleaseCreated) and event.restored_config is not None:
            secret = {*secret_keys, *(event.restored_secret_keys or ())}
            restored = self.redact(event.restored_config, secret)
            return msgspec.structs.replace(event, restored_config=restored)
        return event
