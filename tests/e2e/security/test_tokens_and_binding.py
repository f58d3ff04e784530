"""Tokens and where the server listens, across a process boundary: `ledger serve` refuses to
run open beyond loopback; tokens created or revoked with `ledger token` take effect on a running
server without a restart; token values are printed once and stored only as hashes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

Ledger = Any  # the fixtures of conftest.py
FLAG = "/v1/apps/shop/envs/staging/flags/beta"
TAKES_EFFECT_WITHIN = 1.5  # seconds: the server caches "are there tokens?" for one second


def eventually(check: Any, within: float = TAKES_EFFECT_WITHIN + 2) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("host", "env"),
    [("0.0.0.0", {}), ("::", {}), (None, {"LEDGER_HOST": "0.0.0.0"}), ("", {})],
    ids=["--host-0.0.0.0", "--host-ipv6-any", "LEDGER_HOST", "--host-empty"],
)
def test_without_tokens_serve_refuses_to_listen_beyond_loopback(
    sqlite_ledger: Ledger, host: str | None, env: dict[str, str]
) -> None:
    server = sqlite_ledger.launch(host, **env)
    assert server.process is not None
    code = server.process.wait(30)

    assert code != 0
    log = server.log()
    assert "refusing to listen" in log and "ledger token create" in log, log
    assert "Traceback" not in log, log


def test_a_revoked_token_does_not_count_as_a_token(sqlite_ledger: Ledger) -> None:
    sqlite_ledger.token("ci-bot", "ci", "deploy")
    assert sqlite_ledger.command("token", "revoke", "ci-bot").returncode == 0
    server = sqlite_ledger.launch("0.0.0.0")
    assert server.process is not None
    assert server.process.wait(30) != 0
    assert "refusing to listen" in server.log()


def test_with_a_token_it_listens_beyond_loopback_and_requires_the_token(
    sqlite_ledger: Ledger,
) -> None:
    root = sqlite_ledger.token("root", "system", "admin")
    server = sqlite_ledger.serve("0.0.0.0")

    assert server.request("POST", "/v1/apps", {"name": "shop"}).status == 401
    assert server.request("GET", "/v1/apps").status == 401
    server.write("POST", "/v1/apps", {"name": "shop"}, token=root)
    assert "tokens required" in server.log()


def test_revoking_the_last_token_does_not_open_a_server_listening_beyond_loopback(
    sqlite_ledger: Ledger,
) -> None:
    """Open mode is for loopback only; it must not begin at runtime on 0.0.0.0 either."""
    root = sqlite_ledger.token("root", "system", "admin")
    server = sqlite_ledger.serve("0.0.0.0")
    server.write("POST", "/v1/apps", {"name": "shop"}, token=root)

    assert sqlite_ledger.command("token", "revoke", "root").returncode == 0
    time.sleep(TAKES_EFFECT_WITHIN)

    anonymous = server.request("PUT", FLAG, {"enabled": True}, headers={"X-Ledger-Actor": "eve"})
    assert anonymous.status in (401, 503), anonymous


def test_tokens_take_effect_on_a_running_server_without_a_restart(any_ledger: Ledger) -> None:
    server = any_ledger.serve()  # open mode, loopback
    server.write("POST", "/v1/apps", {"name": "shop"})

    alice = any_ledger.token("alice", "human", "read,flag:write")
    bot = any_ledger.token("ci-bot", "ci", "read,flag:write")
    assert eventually(lambda: server.request("PUT", FLAG, {"enabled": True}).status == 401)
    server.write("PUT", FLAG, {"enabled": False}, token=alice)

    assert any_ledger.command("token", "revoke", "alice").returncode == 0
    assert server.request("PUT", FLAG, {"enabled": True}, token=alice).status == 401
    assert server.request("GET", "/v1/apps", token=alice).status == 401
    last = server.write("PUT", FLAG, {"enabled": True}, token=bot)["position"]
    history = server.request("GET", f"/v1/history?kind=flag&min_position={last}", token=bot).json[
        "items"
    ]
    assert [i["actor"] for i in history[:2]] == ["ci-bot", "alice"]


def test_token_values_are_shown_once_and_stored_only_as_hashes(
    sqlite_ledger: Ledger, data_dir: Path
) -> None:
    created = sqlite_ledger.command(
        "token", "create", "--name", "ci-bot", "--kind", "ci", "--scopes", "deploy,read"
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("ledger_") and " " not in token and len(token) >= 40
    server = sqlite_ledger.serve()
    assert server.request("GET", "/v1/apps", token=token).status == 200

    listed = sqlite_ledger.command("token", "list")
    assert listed.returncode == 0 and "ci-bot" in listed.stdout
    assert token not in listed.stdout + listed.stderr
    again = sqlite_ledger.command(
        "token", "create", "--name", "ci-bot", "--kind", "ci", "--scopes", "deploy"
    )
    assert again.returncode != 0 and token not in again.stdout + again.stderr
    server.stop()
    for path in data_dir.iterdir():
        assert token.encode() not in path.read_bytes(), path
    assert token not in server.log()


@pytest.mark.parametrize(
    "args",
    [
        ("token", "create", "--name", "x", "--kind", "root", "--scopes", "read"),
        ("token", "create", "--name", "x", "--kind", "ci", "--scopes", "read,superuser"),
        ("token", "create", "--name", "Not A Name", "--kind", "ci", "--scopes", "read"),
        ("token", "revoke", "nobody"),
    ],
    ids=["unknown-kind", "unknown-scope", "bad-name", "revoke-unknown"],
)
def test_token_commands_refuse_bad_input_in_one_line(
    sqlite_ledger: Ledger, args: tuple[str, ...]
) -> None:
    done = sqlite_ledger.command(*args)
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.strip(), done
