"""How long an environment ran other than what was released: the time spent drifted in a
window, and the unrecorded artifacts found running (a part of DORA's metrics)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from msgspec import Struct


class DriftSeen(Struct, frozen=True, kw_only=True):
    """Drift was detected (``drifted``) or resolved in an environment's runtime."""

    at: datetime
    drifted: bool
    unrecorded: tuple[str, ...] = ()


def drift_of(steps: Iterable[object], since: datetime, until: datetime) -> tuple[float, set[str]]:
    """Seconds an environment spent drifted in [since, until), and the unrecorded artifacts
    found. Drift resolved in the window with no detection in it began before: from ``since``."""
    began: datetime | None = None
    seen_any = False
    total = 0.0
    unrecorded: set[str] = set()
    for step in steps:
        if not isinstance(step, DriftSeen):
            continue
        if step.drifted:
            unrecorded |= set(step.unrecorded)
            began = began or step.at
        elif began is not None or not seen_any:
            total += (step.at - (began or since)).total_seconds()
            began = None
        seen_any = True
    if began is not None:
        total += (until - began).total_seconds()
    return total, unrecorded
