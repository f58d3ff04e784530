"""The body of ``POST /v1/runtime/reports``: which instances of which apps run, by digest."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from ledger.domain.commands import RUNTIME_DIGEST_PATTERN

RUNTIME_REPORTS = "/v1/runtime/reports"


class Instance(msgspec.Struct, frozen=True, omit_defaults=True):
    """One running copy of an app (a pod, a VM, a function version) and the artifact it runs."""

    id: str
    artifact_digest: str
    started_at: str | None = None


class Workload(msgspec.Struct, frozen=True):
    """An app and the instances of it the reporter sees."""

    app: str
    instances: tuple[Instance, ...]


class RuntimeReport(msgspec.Struct, frozen=True):
    """What one reporter sees running in one environment at one moment. ``complete`` says the
    reporter lists everything it sees there, so an app it leaves out does not run."""

    reporter: str
    env: str
    observed_at: str
    complete: bool
    workloads: tuple[Workload, ...]

    def body(self) -> dict[str, Any]:
        """The JSON body the endpoint takes."""
        body: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(self))
        return body

    @property
    def instance_count(self) -> int:
        return sum(len(w.instances) for w in self.workloads)


def now() -> str:
    """The current moment as RFC 3339 in UTC, e.g. ``2026-12-06T15:04:05+00:00``."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def is_digest(value: str) -> bool:
    """Whether ``value`` is an artifact digest the ledger takes: ``sha256:`` and 64 hex."""
    return re.fullmatch(RUNTIME_DIGEST_PATTERN, value) is not None
