"""`ledger feed`: the change feed in a terminal, one line a change, as it happens."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
CI = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}


@pytest.fixture(scope="module")
def backend() -> str:
    return "sqlite"


def _lines(process: subprocess.Popen[str], out: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        out.append(line.rstrip("\n"))


def _until(lines: list[str], count: int, seconds: float = 20) -> list[str]:
    deadline = time.monotonic() + seconds
    while len(lines) < count:
        assert time.monotonic() < deadline, f"only {lines}"
        time.sleep(0.05)
    return lines


def test_ledger_feed_prints_one_line_per_matching_change(server: Any, cli: Any) -> None:
    api = server.api()
    created = api.write("POST", "/v1/apps", {"name": "shop"}, headers=CI)["position"]
    env = cli.env | {"LEDGER_URL": server.url}
    filters = ["--app", "shop", "--env", "prod", "--after", str(created)]
    command = [sys.executable, "-m", "ledger.cli.main", "feed", *filters]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=_lines, args=(process, lines), daemon=True)
    reader.start()
    try:
        flag = "/v1/apps/shop/envs/{env}/flags/new-checkout"
        api.write("PUT", flag.format(env="staging"), {"enabled": True}, headers=CI)
        body = {"enabled": True, "rollout_percent": 25}
        first = api.write("PUT", flag.format(env="prod"), body, headers={"X-Ledger-Actor": "bob"})
        second = api.write("PUT", flag.format(env="prod"), {"enabled": False}, headers=CI)
        got = _until(lines, 2)
        assert (
            f"#{first['position']:<6} bob turned flag new-checkout on for 25% in shop prod"
            in got[0]
        )
        assert f"#{second['position']}" in got[1] and "off in shop prod" in got[1]
        assert len(lines) == 2
    finally:
        process.terminate()
        process.wait(10)
        reader.join(10)
        assert process.stdout is not None
        process.stdout.close()
