"""What a user does first: write, then look. `ledger rollback` then `ledger state` shows the
rollback, and a plain GET right after a write shows it, on a real server of each backend."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .test_cli import build

pytestmark = pytest.mark.e2e

SHOP = "/v1/apps/shop"
QA = f"{SHOP}/envs/qa"
ROUNDS = 20


@pytest.fixture(scope="module")
def shop(api: Any) -> Any:
    api.write("POST", "/v1/apps", {"name": "shop"})
    for build_id, commit in (("b1", "a1b2c3d4e5"), ("b2", "f6e5d4c3b2")):
        api.write("POST", f"{SHOP}/builds", build(build_id, commit))
    return api


def test_a_plain_get_after_a_write_shows_it(shop: Any) -> None:
    for round in range(ROUNDS):
        written = shop.write("PUT", f"{QA}/flags/beta", {"enabled": round % 2 == 0})
        answer = shop.get(QA)  # no min_position
        assert answer.status == 200, shop.explain(answer)
        state = answer.json
        assert state["position"] == written["position"], f"round {round}: {state}"
        assert state["flags"]["beta"]["enabled"] is (round % 2 == 0)


def test_rollback_then_state_on_the_cli_shows_the_rollback(cli: Any, shop: Any) -> None:
    env = {"LEDGER_URL": shop.url, "LEDGER_ACTOR": "alice"}
    for round in range(3):
        shop.write("POST", f"{QA}/deploys", {"build_id": "b1"})
        deployed = shop.write("POST", f"{QA}/deploys", {"build_id": "b2"})
        rolled = cli("rollback", "shop", "qa", "--reason", f"round {round}", **env)
        assert rolled.returncode == 0, rolled.stderr
        shown = cli("state", "shop", "qa", "--json", **env)
        assert shown.returncode == 0, shown.stderr
        release = json.loads(shown.stdout)["release"]
        assert release["version"] == deployed["release"]["version"] + 1, release
        assert (release["cause"], release["build_id"]) == ("rollback", "b1")
        history = cli("history", "--app", "shop", "--limit", "1", "--json", **env)
        [newest] = json.loads(history.stdout)["items"]
        assert (newest["kind"], newest["reason"]) == ("rollback", f"round {round}")
