"""The independent verifier (tests/verifier/verify.mjs, Node.js, written from
docs/verification.md alone), run as a third party runs it; and the ledger's own
(`ExportChecker`), fed a file the same way."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ledger.audit.cosigning import WitnessKey
from ledger.audit.export_check import ExportChecker, ExportVerdict
from ledger.audit.signing import parse_pinned_key

VERIFY_MJS = Path(__file__).resolve().parent / "verifier" / "verify.mjs"


def node() -> str:
    """The node binary; the test is skipped, saying why, when there is none."""
    found = shutil.which("node") or shutil.which("nodejs")
    if found is None:
        pytest.skip("node (Node.js 20) is not installed: scripts/test installs Debian's nodejs")
    return found


def node_verify(export: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`node verify.mjs EXPORT ARGS…`; its output is printed for the test's log."""
    done = subprocess.run(
        [node(), str(VERIFY_MJS), str(export), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    print(f"$ node verify.mjs {export.name} {' '.join(args)} → {done.returncode}")
    print(done.stdout + done.stderr)
    return done


def python_verify(
    export: Path, key: str, witnesses: tuple[str, ...] = (), quorum: int = 0
) -> ExportVerdict:
    """The ledger's own verifier of an export file."""
    checker = ExportChecker(parse_pinned_key(key), [WitnessKey.parse(w) for w in witnesses], quorum)
    with export.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            checker.feed(number, line)
    return checker.finish()
