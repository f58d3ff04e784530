"""Witnesses, end to end: `ledger witness` and ledgers as processes of their own, over real HTTP.

Each ledger sends its checkpoints to the witness and serves them with the cosignature;
`ledger verify --witness … --min-cosignatures 1` trusts a cosigned checkpoint. A log whose
tail was deleted with its checkpoints, and a log rewritten and re-signed with its own key, are
refused by the witness, which says why in its log, and fail `ledger verify`. The witness keeps
each log apart and keeps what it cosigned across a restart; a witness that is down holds up
no append and no checkpoint."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.audit.signing import Signer, new_signing_key

from ..independent_verifier import node_verify, python_verify
from ..servers import free_port
from ..signed_notes import independent_verifier_key, independent_witness_key, independently_cosigned
from .conftest import Api, Cli, LedgerServer, base_environ, server_environ

pytestmark = pytest.mark.e2e
ORIGINS = ("ledger-a.test", "ledger-b.test", "ledger-cut.test", "ledger-fork.test")
WITNESS_NAME = "witness.test/w1"
WAIT = 20.0


class Keys:
    """Every ledger's signing key and the witness's, made before anything starts."""

    def __init__(self) -> None:
        self.ledgers = {origin: new_signing_key() for origin in ORIGINS}
        self.witness = new_signing_key()

    def ledger_vkey(self, origin: str) -> str:
        public_key = Signer.from_base64(self.ledgers[origin]).public_key
        return independent_verifier_key(origin, public_key)

    @property
    def witness_vkey(self) -> str:
        public_key = Signer.from_base64(self.witness).public_key
        return independent_witness_key(WITNESS_NAME, public_key)


class WitnessProcess:
    """`ledger witness` on a free port, witnessing every origin; restartable on its data."""

    def __init__(self, keys: Keys, workdir: Path) -> None:
        self.keys, self.workdir, self.port = keys, workdir, free_port()
        self.log_path = workdir / "witness.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        logs = [arg for origin in ORIGINS for arg in ("--log", self.keys.ledger_vkey(origin))]
        command = [sys.executable, "-m", "ledger.cli.main", "witness", "--name", WITNESS_NAME]
        command += ["--port", str(self.port), "--data-dir", str(self.workdir / "data"), *logs]
        env = base_environ() | {"LEDGER_WITNESS_KEY": self.keys.witness}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        eventually(lambda: _answers(self.url + "/healthz"), "the witness answers")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def eventually(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    pytest.fail(f"not within {timeout}s: {what}")


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def witness(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WitnessProcess]:
    process = WitnessProcess(keys, tmp_path_factory.mktemp("witness"))
    process.start()
    yield process
    process.stop()
    print(f"--- witness log ---\n{process.log()[-6000:]}")


class Ledger:
    """A `ledger serve` of one origin, sending its checkpoints to the witness."""

    def __init__(self, origin: str, keys: Keys, witness_url: str, workdir: Path) -> None:
        self.origin, self.data = origin, workdir / "data"
        self.env = server_environ(self.data) | {
            "LEDGER_LOG_ORIGIN": origin,
            "LEDGER_SIGNING_KEY": keys.ledgers[origin],
            "LEDGER_WITNESSES": f"{witness_url} {keys.witness_vkey}",
            "LEDGER_CHECKPOINT_SECONDS": "0.2",
        }
        self.server = LedgerServer(self.env, workdir)
        self.api: Api = Api("")

    def start(self) -> Ledger:
        self.server.start()
        self.api = self.server.api()
        return self

    def stop(self) -> None:
        self.server.stop()

    def write(self, count: int, app: str = "shop") -> None:
        if self.api.request("GET", f"/v1/apps/{app}").status == 404:
            self.api.write("POST", "/v1/apps", {"name": app})
        for n in range(count):
            flag = {"enabled": bool(n % 2)}
            self.api.write("PUT", f"/v1/apps/{app}/envs/prod/flags/f{n}", flag)

    def latest(self) -> dict[str, Any]:
        answer = self.api.get("/v1/checkpoints/latest")
        return answer.json if answer.status == 200 else {}

    def cosigned_at(self, size: int | None = None) -> dict[str, Any]:
        """The latest checkpoint, once it covers the log (or ``size``) and is cosigned."""
        head = size or self.api.last_position

        def cosigned() -> dict[str, Any] | None:
            latest = self.latest()
            return latest if latest.get("tree_size") == head and latest["cosignatures"] else None

        found: dict[str, Any] = eventually(cosigned, f"{self.origin}: checkpoint {head} cosigned")
        return found


@pytest.fixture(scope="module")
def ledgers(
    keys: Keys, witness: WitnessProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Ledger]]:
    started = {
        origin: Ledger(origin, keys, witness.url, tmp_path_factory.mktemp(origin)).start()
        for origin in ORIGINS
    }
    yield started
    for ledger in started.values():
        ledger.stop()


def verify(cli: Cli, ledger: Ledger, keys: Keys) -> subprocess.CompletedProcess[str]:
    return cli(
        "verify",
        "--public-key",
        keys.ledger_vkey(ledger.origin),
        "--witness",
        keys.witness_vkey,
        "--min-cosignatures",
        "1",
        LEDGER_DATA_DIR=str(ledger.data),
    )


def test_each_ledgers_checkpoints_are_cosigned_and_served_with_the_cosignature(
    ledgers: dict[str, Ledger], keys: Keys, cli: Cli
) -> None:
    for origin in ("ledger-a.test", "ledger-b.test"):
        ledger = ledgers[origin]
        ledger.write(3)
        latest = ledger.cosigned_at()
        [cosignature] = latest["cosignatures"]
        assert cosignature["witness"] == WITNESS_NAME
        text = ledger.api.request("GET", "/v1/checkpoints/latest", headers={"Accept": "text/plain"})
        note = text.body.decode()
        assert note == latest["note"] + cosignature["line"]
        assert independently_cosigned(note, keys.witness_vkey) == cosignature["timestamp"]
        passed = verify(cli, ledger, keys)
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert f"against checkpoint {latest['tree_size']} (valid, 1 cosignature(s))" in (
            passed.stdout
        )

    note_file = ledgers["ledger-a.test"].data.parent / "note.txt"
    note_file.write_text(note)
    offline = cli(
        "proof", "verify", str(note_file), "--public-key", keys.ledger_vkey("ledger-b.test"),
        "--witness", keys.witness_vkey, "--min-cosignatures", "1",
    )  # fmt: skip
    assert offline.returncode == 0, offline.stdout
    assert "cosigned by 1 of the witnesses given" in offline.stdout

    # The verification export carries the cosignatures: a third party's verifier counts them.
    ledger = ledgers["ledger-b.test"]
    export = ledger.data.parent / "export.ndjson"
    export.write_bytes(ledger.api.request("GET", "/v1/audit/export").body)
    vkey, wkey = keys.ledger_vkey("ledger-b.test"), keys.witness_vkey
    assert python_verify(export, vkey, (wkey,), quorum=1).ok
    done = node_verify(export, "--key", vkey, "--witness", wkey, "--quorum", "1")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_truncated_log_is_refused_by_the_witness_and_fails_verify(
    ledgers: dict[str, Ledger], witness: WitnessProcess, keys: Keys, cli: Cli
) -> None:
    ledger = ledgers["ledger-cut.test"]
    ledger.write(6)
    cosigned = ledger.cosigned_at()["tree_size"]
    ledger.stop()
    with sqlite3.connect(ledger.data / "ledger.sqlite") as db:  # the tail, leaves, checkpoints
        db.execute("DELETE FROM stored_events WHERE rowid > 4")
        db.execute("DELETE FROM ledger_merkle_leaves WHERE leaf_index >= 4")
        db.execute("DELETE FROM ledger_checkpoints WHERE tree_size > 4")
    ledger.start()
    ledger.write(1, app="other")  # two events: the log grows again from 4, to 6 < 7
    smaller = eventually(
        lambda: (latest := ledger.latest()).get("tree_size") == 6 and latest,
        "a checkpoint of the whole truncated log",
    )
    refused = f"refused checkpoint {smaller['tree_size']} of ledger-cut.test (cosigned: {cosigned})"
    eventually(lambda: refused in witness.log(), "the witness says it refused")
    assert "a rollback" in witness.log()
    assert ledger.latest()["cosignatures"] == []

    failed = verify(cli, ledger, keys)
    assert failed.returncode == 1, failed.stdout
    assert f"TAMPERED [witness] checkpoint {smaller['tree_size']}: checkpoint " in failed.stdout
    assert "carries 0 valid cosignature(s) of the 1 required" in failed.stdout
    assert f"cosigned checkpoint {cosigned}, which the store no longer holds" in failed.stdout
    shown = cli("checkpoint", LEDGER_DATA_DIR=str(ledger.data))
    assert f"beyond its latest checkpoint {smaller['tree_size']}" in shown.stdout


def test_a_rewritten_log_re_signed_with_its_key_is_refused_by_the_witness_and_fails_verify(
    ledgers: dict[str, Ledger], witness: WitnessProcess, keys: Keys, cli: Cli
) -> None:
    ledger = ledgers["ledger-fork.test"]
    ledger.write(5)
    cosigned = ledger.cosigned_at()
    ledger.stop()
    with sqlite3.connect(ledger.data / "ledger.sqlite") as db:  # edit an event, re-derive all
        state = db.execute("SELECT state FROM stored_events WHERE rowid = 3").fetchone()[0]
        edited = {**json.loads(state), "actor": "mallory"}
        forged = json.dumps(edited).encode()
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = 3", (forged,))
        db.execute("DELETE FROM ledger_merkle_leaves")
        db.execute("DELETE FROM ledger_checkpoints")
    ledger.start()  # the checkpointer signs the rewritten tree, at the same size
    size = cosigned["tree_size"]
    forked = eventually(
        lambda: (
            (latest := ledger.latest()).get("root_hash", cosigned["root_hash"])
            != cosigned["root_hash"]
            and latest
        ),
        "the re-signed checkpoint",
    )
    assert forked["tree_size"] == size
    refused = f"refused checkpoint {size} of ledger-fork.test (cosigned: {size})"
    eventually(lambda: refused in witness.log(), "the witness refuses the fork")
    assert "a fork, the log signed two different trees of this size" in witness.log()
    failed = verify(cli, ledger, keys)
    assert failed.returncode == 1, failed.stdout
    assert f"does not verify over checkpoint {size}: the checkpoint was changed" in failed.stdout

    ledger.write(1, app="more")  # a larger tree on the fork: its proof cannot hold
    grown = f"refused checkpoint {size + 1} of ledger-fork.test (cosigned: {size})"
    eventually(lambda: grown in witness.log(), "the witness refuses the grown fork")
    assert "a fork, unless the log sent a wrong proof" in witness.log()
    assert ledger.latest()["cosignatures"] == []


def test_the_witness_keeps_each_log_apart_and_what_it_cosigned_across_a_restart(
    ledgers: dict[str, Ledger], witness: WitnessProcess, keys: Keys, cli: Cli
) -> None:
    ledger = ledgers["ledger-b.test"]
    ledger.write(1)
    before = ledger.cosigned_at()
    witness.stop()
    witness.start()
    first = urllib.request.Request(
        witness.url + "/add-checkpoint", data=f"old 0\n\n{before['note']}".encode()
    )
    with pytest.raises(urllib.error.HTTPError) as conflict:
        urllib.request.urlopen(first, timeout=5)
    assert conflict.value.code == 409
    assert conflict.value.headers["Content-Type"] == "text/x.tlog.size"
    assert conflict.value.read() == f"{before['tree_size']}\n".encode()

    ledger.write(2)
    ledger.cosigned_at()
    since_restart = witness.log().split(f"witness {WITNESS_NAME} listening")[-1]
    cosigned = [
        entry
        for line in since_restart.splitlines()
        if line.startswith("{")
        and (entry := json.loads(line))["message"].startswith("cosigned ledger-b.test")
    ]
    assert cosigned[0]["old_size"] == before["tree_size"]  # it went on from what it had
    assert verify(cli, ledger, keys).returncode == 0


def test_a_witness_that_is_down_holds_up_no_append_and_no_checkpoint(
    keys: Keys, tmp_path: Path, cli: Cli
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    ledger = Ledger("ledger-a.test", keys, nowhere, tmp_path).start()
    try:
        started = time.monotonic()
        ledger.write(20)
        assert time.monotonic() - started < 10
        latest = eventually(
            lambda: (latest := ledger.latest()).get("tree_size") == 21 and latest,
            "a checkpoint of every event",
        )
        assert latest["cosignatures"] == []
        shown = cli("checkpoint", LEDGER_DATA_DIR=str(ledger.data))
        assert f"at {nowhere}: holds tree 0 (not cosigned by it)" in shown.stdout
        assert "failing since" in shown.stdout and "Cannot connect" in shown.stdout
    finally:
        ledger.stop()
