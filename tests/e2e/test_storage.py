"""Backups and moving the store, as an operator does them with the `ledger` command:
`ledger backup` copies a running embedded ledger consistently; on PostgreSQL it prints a
pg_dump command that works; `ledger migrate-store` moves an embedded ledger into PostgreSQL
with the same positions, state, event hashes, tokens and secret fingerprints."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.chain import event_hash
from ledger.eventstore.application import LedgerStore, read_batch
from ledger.settings import Settings

from .conftest import Answer, Api, Cli, fresh_database, running, server_environ
from .load import Load, log_of, prepare

pytestmark = pytest.mark.e2e
SECRET = "hunter2-Qz8"


class TokenApi(Api):
    """The JSON client, sending a bearer token with every request."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url)
        self.token = token

    def request(
        self, method: str, path: str, body: object = None, *,
        headers: Mapping[str, str] | None = None, **options: Any,
    ) -> Answer:  # fmt: skip
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return super().request(method, path, body, headers=sent, **options)


def _token(cli: Cli, env: dict[str, str], name: str, kind: str, scopes: str) -> str:
    done = cli("token", "create", "--name", name, "--kind", kind, "--scopes", scopes, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _story(api: Api) -> None:
    """Builds, config with a secret, deploys, a flag and a rollback, in staging and prod."""
    api.write("POST", "/v1/apps", {"name": "shop"})
    for build in ("b1", "b2"):
        body = {"build_id": build, "commit": f"{build}cafe", "status": "succeeded",
                "artifact": {"digest": f"sha256:{build}"},
                "pipeline": {"name": "ci", "run_id": f"run-{build}"}}  # fmt: skip
        api.write("POST", "/v1/apps/shop/builds", body)
    for env in ("staging", "prod"):
        base = f"/v1/apps/shop/envs/{env}"
        api.write("POST", f"{base}/config", {"set": {"DB_PASSWORD": SECRET, "MODE": env}})
        api.write("POST", f"{base}/deploys", {"build_id": "b1"})
        api.write("POST", f"{base}/deploys", {"build_id": "b2"})
        api.write("PUT", f"{base}/flags/checkout", {"enabled": True})
    api.write("POST", "/v1/apps/shop/envs/prod/rollback", {"to_version": 2, "reason": "errors"})


def _reads(api: Api) -> dict[str, Any]:
    """What people read: the whole history, the states and releases of both environments."""
    seen: dict[str, Any] = {"history": api.history(limit=500)}
    for env in ("staging", "prod"):
        seen[env] = api.read(f"/v1/apps/shop/envs/{env}")
        seen[f"{env} releases"] = api.read(f"/v1/apps/shop/envs/{env}/releases")
    return seen


def _hashes(settings: Settings) -> list[tuple[int, str]]:
    """(position, hash) of every event, read from the store and hashed again."""
    store = LedgerStore(settings)
    try:
        return [(position, event_hash(event)) for position, event in read_batch(store, 0, 10_000)]
    finally:
        store.close()


def _workdir(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


@pytest.mark.postgres
def test_migrate_store_moves_an_embedded_ledger_into_postgresql_unchanged(
    cli: Cli, tmp_path: Path, postgres_url: str
) -> None:
    embedded = server_environ(tmp_path / "data")
    ci = _token(cli, embedded, "ci-bot", "ci", "admin")
    viewer = _token(cli, embedded, "viewer", "human", "read")
    with running(embedded, _workdir(tmp_path, "embedded")) as server:
        writer, reader = TokenApi(server.url, ci), TokenApi(server.url, viewer)
        _story(writer)
        reader.last_position = writer.last_position  # read after the story's last write
        before = _reads(reader)
    hashes = _hashes(Settings(data_dir=tmp_path / "data"))

    moved = cli("migrate-store", "--to", postgres_url, **embedded)
    assert moved.returncode == 0, moved.stderr
    assert f"moved {len(hashes)} events" in moved.stdout
    again = cli("migrate-store", "--to", postgres_url, **embedded)
    assert again.returncode == 1 and "already holds" in again.stderr, again.stderr

    assert _hashes(Settings(database_url=postgres_url)) == hashes
    on_postgres = server_environ(tmp_path / "unused") | {"LEDGER_DATABASE_URL": postgres_url}
    with running(on_postgres, _workdir(tmp_path, "postgres")) as server:
        reader = TokenApi(server.url, viewer)  # the tokens still authenticate
        reader.last_position = writer.last_position
        after = _reads(reader)
        written = TokenApi(server.url, ci).write(
            "PUT", "/v1/apps/shop/envs/prod/flags/checkout", {"enabled": False}
        )
    assert after == before  # positions, summaries, state, fingerprints, releases
    fingerprint = after["prod"]["config"]["DB_PASSWORD"]
    assert fingerprint.startswith("<secret:") and SECRET not in str(after)
    assert written["position"] == hashes[-1][0] + 1  # the log continues where it was


def test_backup_of_a_running_embedded_ledger_is_a_consistent_copy(cli: Cli, tmp_path: Path) -> None:
    env = server_environ(tmp_path / "data")
    copy = tmp_path / "backup.sqlite"
    with running(env, _workdir(tmp_path, "live")) as live:
        prepare(live.url)
        load = Load([live.url], clients=3).start()
        time.sleep(1)
        done = cli("backup", str(copy), **env)
        time.sleep(0.5)
        load.stop()
        original = log_of(live.url)
    assert done.returncode == 0, done.stderr
    found = re.search(r"up to position (\d+)", done.stdout)
    assert found is not None, done.stdout
    head = int(found.group(1))
    assert 0 < head < original[-1]["ledgerposition"], "the copy was not taken under load"
    refused = cli("backup", str(copy), **env)
    assert refused.returncode == 1 and "exists" in refused.stderr

    restored = _workdir(tmp_path, "restored")
    shutil.copy(copy, restored / "ledger.sqlite")
    with running(server_environ(restored), _workdir(tmp_path, "restored-server")) as server:
        log = log_of(server.url)
        history = server.api().read("/v1/history", after=0, limit=500, min_position=head)
    expected = [e for e in original if e["ledgerposition"] <= head]
    assert [(e["id"], e["ledgerposition"]) for e in log] == [
        (e["id"], e["ledgerposition"]) for e in expected
    ]
    assert [i["event_id"] for i in history["items"]] == [e["id"] for e in expected]


@pytest.mark.postgres
def test_backup_on_postgresql_prints_a_pg_dump_command_that_restores(
    cli: Cli, tmp_path: Path, postgres_url: str, postgres_admin_url: str
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed")
    dump = tmp_path / "ledger.dump"
    env = server_environ(tmp_path / "unused") | {"LEDGER_DATABASE_URL": postgres_url}
    with running(env, _workdir(tmp_path, "live")) as live:
        prepare(live.url)
        done = cli("backup", str(dump), **env)
        assert done.returncode == 0, done.stderr
        command = done.stdout.strip().splitlines()[-1]
        assert command.startswith("pg_dump ") and "ledger_*" in command
        dumped = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
        assert dumped.returncode == 0, dumped.stderr
        original = log_of(live.url)

    with fresh_database(postgres_admin_url) as restored_url:
        restore = ["pg_restore", "--no-owner", f"--dbname={restored_url}", str(dump)]
        restored = subprocess.run(restore, capture_output=True, text=True, check=False)
        assert restored.returncode == 0, restored.stderr
        env = env | {"LEDGER_DATABASE_URL": restored_url}
        with running(env, _workdir(tmp_path, "restored")) as server:
            assert log_of(server.url) == original
            answer = server.api().request(
                "PUT", "/v1/apps/shop/envs/dev/flags/x", {"enabled": True}
            )
            assert answer.status == 201, answer
            assert answer.json["position"] == original[-1]["ledgerposition"] + 1
