"""deploy/docker/ledger-bootstrap, the image's first-start chores, against a real PostgreSQL:
the admin token is made once (every later run finds it), and servers wait for a token."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.service.tokens import Principal, open_tokens
from ledger.settings import Settings

pytestmark = pytest.mark.postgres
STILL_WAITING_AFTER = 3.0


def environment(database_url: str) -> dict[str, str]:
    """This process's environment without LEDGER_* settings, the store, and .venv/bin first
    (where the image has `ledger` on PATH)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["LEDGER_DATABASE_URL"] = database_url
    return env


def bootstrap(deploy: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(deploy / "docker" / "ledger-bootstrap"), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def principal_of(database_url: str, token: str) -> Principal | None:
    async def look_up() -> Principal | None:
        async with open_tokens(Settings(database_url=database_url)) as tokens:
            return await tokens.authenticate(token)

    return asyncio.run(look_up())


def test_the_admin_token_is_created_once(deploy: Path, postgres_url: str) -> None:
    env = environment(postgres_url)

    first = bootstrap(deploy, "admin-token", env)
    again = bootstrap(deploy, "admin-token", env)

    assert first.returncode == 0, first.stderr
    token = first.stdout.splitlines()[-1]
    principal = principal_of(postgres_url, token)
    assert principal is not None
    assert (principal.name, principal.kind, principal.scopes) == ("admin", "human", {"admin"})
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""  # no second token, nothing secret in the log
    assert "exists: nothing to do" in again.stderr


def test_servers_wait_until_a_token_exists(deploy: Path, postgres_url: str) -> None:
    env = environment(postgres_url)
    waiting = subprocess.Popen(
        [str(deploy / "docker" / "ledger-bootstrap"), "wait-token"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(STILL_WAITING_AFTER)
        assert waiting.poll() is None, "wait-token returned while no token exists"

        assert bootstrap(deploy, "admin-token", env).returncode == 0

        assert waiting.wait(timeout=60) == 0
    finally:
        if waiting.poll() is None:
            waiting.kill()
        waiting.communicate()
