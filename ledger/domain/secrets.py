"""Which config values are secret, and the fingerprint that stands in for them."""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable

SECRET_PATTERNS = ("*_SECRET", "*_TOKEN", "*_PASSWORD", "*_KEY", "DATABASE_URL")


def is_secret(key: str, declared: Iterable[str] = ()) -> bool:
    """A key is secret when declared so, or when its name matches a secret pattern."""
    upper = key.upper()
    return key in set(declared) or any(fnmatch.fnmatchcase(upper, p) for p in SECRET_PATTERNS)


def fingerprint(value: str) -> str:
    """A short, stable stand-in for a secret value: changes stay visible, the value does not."""
    digest = hashlib.sha256(b"release-ledger/secret/" + value.encode()).hexdigest()
    return f"<secret:{digest[:12]}>"


def redact(config: dict[str, str], declared: Iterable[str]) -> dict[str, str]:
    """The config with every secret value replaced by its fingerprint."""
    secret = set(declared)
    return {k: fingerprint(v) if is_secret(k, secret) else v for k, v in config.items()}
