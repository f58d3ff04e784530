"""The witness's decisions (c2sp.org/tlog-witness), on checkpoints and consistency proofs
signed and computed by another implementation's test suite (filippo.io/torchwood's witness
tests): it cosigns what follows on from the tree it cosigned last, refuses a rollback, a fork
and a bad proof with the status the specification gives, keeps its tree across a restart,
and never advances one log twice from the same tree."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ledger.audit.cosigning import Cosigner, WitnessKey, cosigned_by
from ledger.audit.notes import checkpoint_note
from ledger.audit.signing import Signer, new_signing_key
from ledger.domain.merkle import EMPTY_ROOT
from ledger.domain.notes import split_note, verifier_key
from ledger.domain.witness_protocol import parse_add_checkpoint
from ledger.witness.config import parse_logs
from ledger.witness.state import WitnessState
from ledger.witness.witness import Refused, Witness

from ...signed_notes import independent_witness_key, independently_cosigned

ORIGIN = "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562"
LOG_KEY = bytes.fromhex("ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f")


def signed(size: int, root: str, signature: str) -> str:
    """A checkpoint note of the log, signed by the other implementation's log key."""
    return f"{ORIGIN}\n{size}\n{root}\n\n\u2014 {ORIGIN} {signature}\n"


NOTE_1 = signed(
    1,
    "KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=",
)
NOTE_3 = signed(
    3,
    "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=",
    "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go=",
)
NOTE_5 = signed(
    5,
    "QrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=",
    "UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2KEmLOZ/ASRcWJi0tW90dJWAShei7sDww=",
)
PROOF_1_3 = (
    "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nKgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
)
PROOF_1_5 = (
    "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    "+fUDV+k970B4I3uKrqJM4aP1lloPZP8mvr2Z4wRw2LI=\n"
    "KgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
)
NAME = "witness.example/w1"
COSIGNER = Cosigner(NAME, Signer.from_base64(new_signing_key()))


def request(old: int, proof: str, note: str) -> str:
    return f"old {old}\n{proof}\n{note}"


def witness_on(path: Path) -> Witness:
    logs = parse_logs([verifier_key(ORIGIN, LOG_KEY)])
    return Witness(COSIGNER, logs, WitnessState(path / "witness.sqlite"))


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return witness_on(tmp_path)


async def refusal(witness: Witness, body: str) -> Refused:
    with pytest.raises(Refused) as refused:
        await witness.add_checkpoint(body)
    return refused.value


async def test_a_first_checkpoint_then_one_that_follows_on_are_cosigned(witness: Witness):
    first = await witness.add_checkpoint(request(0, "", NOTE_1))
    second = await witness.add_checkpoint(request(1, PROOF_1_5, NOTE_5))
    for cosignatures, note in ((first, NOTE_1), (second, NOTE_5)):
        [cosignature] = cosignatures
        cosigned = note + cosignature.line()
        vkey = independent_witness_key(NAME, COSIGNER.key.public_key)
        assert independently_cosigned(cosigned, vkey) == cosignature.timestamp
        assert cosigned_by(split_note(note)[0], split_note(cosigned)[1], COSIGNER.key)
    assert witness.state.latest(ORIGIN).size == 5


async def test_an_old_size_not_the_witnesss_is_a_conflict_naming_its_size(witness: Witness):
    await witness.add_checkpoint(request(0, "", NOTE_1))
    refused = await refusal(witness, request(0, "", NOTE_5))
    assert (refused.status, refused.size) == (409, 1)


async def test_a_rollback_is_refused(witness: Witness) -> None:
    await witness.add_checkpoint(request(0, "", NOTE_1))
    await witness.add_checkpoint(request(1, PROOF_1_5, NOTE_5))
    stale = await refusal(witness, request(1, PROOF_1_3, NOTE_3))  # a smaller tree
    assert (stale.status, stale.size) == (409, 5)
    smaller = await refusal(witness, request(5, "", NOTE_3))
    assert (smaller.status, smaller.field) == (400, "old")
    assert witness.state.latest(ORIGIN).size == 5


async def test_a_fork_at_the_same_size_is_a_conflict(tmp_path: Path) -> None:
    log_signer = Signer.from_base64(new_signing_key())
    logs = parse_logs([verifier_key("ledger.example/a", log_signer.public_key)])
    witness = Witness(COSIGNER, logs, WitnessState(tmp_path / "witness.sqlite"))
    honest, _ = checkpoint_note("ledger.example/a", 4, "aa" * 32, log_signer)
    forked, _ = checkpoint_note("ledger.example/a", 4, "bb" * 32, log_signer)
    await witness.add_checkpoint(request(0, "", honest))
    refused = await refusal(witness, request(4, "", forked))
    assert (refused.status, refused.size) == (409, 4)
    assert witness.state.latest("ledger.example/a").root == bytes.fromhex("aa" * 32)
    again = await witness.add_checkpoint(request(4, "", honest))  # the same tree: cosigned
    assert len(again) == 1


async def test_a_proof_that_does_not_lead_from_the_cosigned_tree_is_unprocessable(
    witness: Witness,
) -> None:
    await witness.add_checkpoint(request(0, "", NOTE_1))
    wrong = PROOF_1_5.replace("+fUDV", "+fUDW")
    refused = await refusal(witness, request(1, wrong, NOTE_5))
    assert (refused.status, refused.field) == (422, "proof")
    assert (await refusal(witness, request(0, PROOF_1_3, NOTE_3))).status == 409
    assert witness.state.latest(ORIGIN).size == 1


async def test_an_unknown_origin_is_not_found_and_an_unverified_signature_forbidden(
    witness: Witness,
) -> None:
    other = NOTE_1.replace(ORIGIN, "other.example/log")
    assert (await refusal(witness, request(0, "", other))).status == 404
    altered = NOTE_1.replace("\n1\n", "\n2\n", 1)
    assert (await refusal(witness, request(0, "", altered))).status == 403
    unsigned = NOTE_1.split("\n\n")[0] + "\n"
    assert (await refusal(witness, request(0, "", unsigned))).status == 403
    assert (await refusal(witness, "old 0\n" + NOTE_1)).status == 400
    assert witness.state.latest(ORIGIN).size == 0


async def test_the_cosigned_tree_survives_a_restart(tmp_path: Path) -> None:
    first = witness_on(tmp_path)
    await first.add_checkpoint(request(0, "", NOTE_1))
    await first.add_checkpoint(request(1, PROOF_1_5, NOTE_5))
    first.state.close()
    again = witness_on(tmp_path)
    refused = await refusal(again, request(0, "", NOTE_1))
    assert (refused.status, refused.size) == (409, 5)


async def test_concurrent_requests_never_both_advance_from_one_tree(witness: Witness) -> None:
    await witness.add_checkpoint(request(0, "", NOTE_1))
    both = await asyncio.gather(
        witness.add_checkpoint(request(1, PROOF_1_3, NOTE_3)),
        witness.add_checkpoint(request(1, PROOF_1_5, NOTE_5)),
        return_exceptions=True,
    )
    cosigned = [answer for answer in both if isinstance(answer, list)]
    refused = [answer for answer in both if isinstance(answer, Refused)]
    assert len(cosigned) == 1 and len(refused) == 1 and refused[0].status == 409
    assert witness.state.latest(ORIGIN).size in (3, 5)


def test_two_processes_on_one_state_file_cannot_both_move_a_tree(tmp_path: Path) -> None:
    one, two = (WitnessState(tmp_path / "witness.sqlite") for _ in range(2))
    empty = one.latest(ORIGIN)
    assert empty.root == EMPTY_ROOT
    tree = type(empty)(1, b"\1" * 32)
    assert one.advance(ORIGIN, empty, tree)
    assert not two.advance(ORIGIN, empty, type(empty)(2, b"\2" * 32))
    assert two.latest(ORIGIN) == tree


def test_a_witness_key_parses_from_its_verifier_key() -> None:
    assert WitnessKey.parse(COSIGNER.key.verifier_key) == COSIGNER.key
    assert COSIGNER.key.verifier_key == independent_witness_key(NAME, COSIGNER.key.public_key)
    assert parse_add_checkpoint(request(1, PROOF_1_5, NOTE_5)).old_size == 1
