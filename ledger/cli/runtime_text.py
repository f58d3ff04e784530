"""What runs, in one line: the runtime of an environment as `ledger state` and `ledger drift`
print it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any


def short_digest(value: str) -> str:
    algorithm, _, hexes = value.partition(":")
    return f"{algorithm}:{hexes[:12]}…" if len(hexes) > 12 else value


def runtime_line(runtime: Mapping[str, Any] | None) -> str:
    """``in_sync: 3 of v42 (sha256:1f04…)``; drift names what it found."""
    if not runtime:
        return "-"
    status = str(runtime.get("status"))
    running = Counter(
        (i.get("release_version"), i.get("artifact_digest")) for i in runtime.get("instances", [])
    )
    parts = [
        f"{n} of {'v' + str(v) if v is not None else 'unreleased'} ({short_digest(str(d))})"
        for (v, d), n in sorted(running.items(), key=lambda item: str(item[0]))
    ]
    line = status + (f": {', '.join(parts)}" if parts else "")
    drift = runtime.get("drift")
    if drift:
        found = [f"unrecorded {short_digest(d)}" for d in drift.get("unrecorded_artifacts", [])]
        found += [f"old v{r['version']}" for r in drift.get("old_releases", [])]
        if found:
            line += f" — {', '.join(found)}"
        if drift.get("since"):
            line += f" since {drift['since']}"
    return line
