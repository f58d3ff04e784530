"""What the tests of the write commands share: the environment of a command run by hand, apps
with recorded builds, and what a command printed or refused."""

from __future__ import annotations

import subprocess
from typing import Any

from .conftest import base_environ

COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
SECRET = "s3cret-Vx81-never-shown"
CI_VARIABLES = ("GITHUB_", "GITLAB_", "CI_")


def outside_ci() -> dict[str, str]:
    """The environment of a command run by hand: no variable of a CI running these tests."""
    env = base_environ()
    return {k: v for k, v in env.items() if not k.startswith(CI_VARIABLES) and k != "CI"}


def digest_of(build_id: str) -> str:
    return "sha256:" + build_id.encode().hex().ljust(64, "0")[:64]


def make_app(api: Any, app: str, *builds: str) -> str:
    api.write("POST", "/v1/apps", {"name": app})
    for build_id in builds:
        body = {"build_id": build_id, "commit": COMMIT, "status": "succeeded"}
        api.write(
            "POST", f"/v1/apps/{app}/builds", body | {"artifact": {"digest": digest_of(build_id)}}
        )
    return app


def env_of(api: Any, actor: str = "ci-bot") -> dict[str, str]:
    return {"LEDGER_URL": api.url, "LEDGER_ACTOR": actor}


def said(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines a command that succeeded printed."""
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.splitlines()


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


def state(api: Any, app: str, env: str) -> dict[str, Any]:
    result: dict[str, Any] = api.read(f"/v1/apps/{app}/envs/{env}")
    return result
