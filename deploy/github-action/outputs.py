"""The step outputs of the release-ledger action, from the ledger's JSON answer in the file
named first: build-id, release, request-id, position, replayed, and the answer itself."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def outputs(answer: dict[str, Any]) -> dict[str, str]:
    """Each output's value ("" when the answer has none)."""
    build = answer.get("build") or {}
    release = answer.get("release") or {}
    request = answer.get("request") or {}
    build_id = build.get("build_id") or release.get("build_id") or request.get("build_id")
    return {
        "build-id": str(build_id or ""),
        "release": str(release.get("version") or ""),
        "request-id": str(request.get("id") or ""),
        "position": str(answer.get("position") or ""),
        "replayed": "true" if answer.get("replayed") else "false",
    }


def main() -> None:
    text = Path(sys.argv[1]).read_text(encoding="utf-8").strip()
    lines = [f"{name}={value}" for name, value in outputs(json.loads(text)).items()]
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as found:
        found.write("\n".join([*lines, f"answer={text}", ""]))  # the answer is one line of JSON
    print("outputs:", ", ".join(lines))


if __name__ == "__main__":
    main()
