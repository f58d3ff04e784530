"""Natural keys of the ledger's streams and the deterministic ids derived from them."""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from ledger.domain.errors import Invalid

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
BUILD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
FLAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
CONFIG_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,255}$"

_NAMESPACE = UUID("6f1c1f52-8f7e-4b9a-9a57-2f4f1c0d5e10")


def check_name(value: str, field: str, pattern: str = NAME_PATTERN) -> str:
    """Return the value when it matches the pattern, else raise Invalid naming the field."""
    if not re.fullmatch(pattern, value):
        raise Invalid(f"{value!r} does not match {pattern}", field=field)
    return value


def app_id(app: str) -> UUID:
    return uuid5(_NAMESPACE, f"app/{app}")


def environment_id(app: str, env: str) -> UUID:
    return uuid5(_NAMESPACE, f"env/{app}/{env}")


def runtime_id(app: str, env: str) -> UUID:
    return uuid5(_NAMESPACE, f"runtime/{app}/{env}")


def build_id(app: str, build: str) -> UUID:
    return uuid5(_NAMESPACE, f"build/{app}/{build}")


def artifact_id(app: str, digest: str) -> UUID:
    return uuid5(_NAMESPACE, f"artifact/{app}/{digest}")


def denials_id(app: str, env: str | None) -> UUID:
    return uuid5(_NAMESPACE, f"denied/{app}/{env or '_'}")


def idempotency_id(key: str) -> UUID:
    return uuid5(_NAMESPACE, f"idempotency/{key}")


MAX_POSITION = 2**63 - 1
MAX_VERSION = 2**31 - 1


def is_count(text: str, limit: int = MAX_POSITION) -> bool:
    """ASCII digits only (``"²".isdigit()`` is true), and small enough for a BIGINT column."""
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= limit


def policy_id(app: str, env: str) -> UUID:
    """One level's policy for an environment (``app`` is ``*`` for every app)."""
    return uuid5(_NAMESPACE, f"policy/{app}/{env}")
