"""The texts of the witness protocol and of cosignatures, read and written as
c2sp.org/tlog-witness and c2sp.org/tlog-cosignature give them, checked against the
specifications' own examples."""

from __future__ import annotations

import base64

import pytest

from ledger.domain.cosignatures import Cosignature, cosignature_of, cosigned_message
from ledger.domain.notes import (
    COSIGNATURE_V1,
    parse_signature_line,
    parse_verifier_key,
    verifier_key,
)
from ledger.domain.witness_protocol import (
    MAX_PROOF_LINES,
    AddCheckpoint,
    add_checkpoint_body,
    parse_add_checkpoint,
    parse_cosignature_lines,
    parse_size_body,
    size_body,
)

SPEC_NOTE = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+"
    "49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)
SPEC_PROOF = [
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=",
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=",
]
SPEC_REQUEST = "old 20852014\n" + "".join(f"{line}\n" for line in SPEC_PROOF) + "\n" + SPEC_NOTE
"""The example request body of c2sp.org/tlog-witness."""
SPEC_COSIGNATURE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
    "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)
"""The example cosignature of c2sp.org/tlog-cosignature."""


def test_the_specifications_example_request_reads_and_writes_back_byte_for_byte() -> None:
    request = parse_add_checkpoint(SPEC_REQUEST)
    assert request.old_size == 20852014
    assert request.proof == [base64.b64decode(line) for line in SPEC_PROOF]
    assert request.note == SPEC_NOTE
    assert add_checkpoint_body(request) == SPEC_REQUEST


def test_a_first_submission_has_old_size_zero_and_no_proof() -> None:
    body = add_checkpoint_body(AddCheckpoint(0, [], SPEC_NOTE))
    assert body == "old 0\n\n" + SPEC_NOTE
    assert parse_add_checkpoint(body) == AddCheckpoint(0, [], SPEC_NOTE)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("old 5\n" + SPEC_NOTE.replace("\n\n", "\n"), "no empty line"),
        ("new 5\n\n" + SPEC_NOTE, "not 'old <size>'"),
        ("old 05\n\n" + SPEC_NOTE, "not a decimal number"),
        ("old -1\n\n" + SPEC_NOTE, "not a decimal number"),
        ("old 5\nnot-base64!\n\n" + SPEC_NOTE, "not standard base64"),
        ("old 5\nAAAA\n\n" + SPEC_NOTE, "not the base64 of 32 bytes"),
        ("old 5\n" + f"{SPEC_PROOF[0]}\n" * (MAX_PROOF_LINES + 1) + "\n" + SPEC_NOTE, "over 63"),
    ],
    ids=["no-empty-line", "no-old", "leading-zero", "negative", "bad-base64", "short", "64"],
)
def test_a_malformed_request_says_what_is_wrong(body: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_add_checkpoint(body)


def test_a_conflicts_body_is_the_size_and_a_newline() -> None:
    assert size_body(20852163) == "20852163\n"
    assert parse_size_body("20852163\n") == 20852163
    for bad in ("20852163", "020\n", "x\n"):
        with pytest.raises(ValueError):
            parse_size_body(bad)


def test_the_specifications_example_cosignature_holds_its_time_and_key_hash() -> None:
    cosignature = cosignature_of(parse_signature_line(SPEC_COSIGNATURE))
    assert cosignature.name == "witness.example.com/w1"
    assert cosignature.timestamp == 1679315147  # the time of the specification's message
    assert len(cosignature.signature) == 64
    assert cosignature.line() == SPEC_COSIGNATURE + "\n"
    assert parse_cosignature_lines(SPEC_COSIGNATURE + "\n") == [
        parse_signature_line(SPEC_COSIGNATURE)
    ]


def test_the_cosigned_message_is_the_header_the_time_and_the_body() -> None:
    body = SPEC_NOTE.split("\n\n")[0] + "\n"
    assert cosigned_message(1679315147, body) == (
        b"cosignature/v1\n"
        b"time 1679315147\n"
        b"example.com/behind-the-sofa\n"
        b"20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    with pytest.raises(ValueError):
        cosigned_message(2**63, body)


def test_a_note_signature_of_another_shape_is_no_cosignature() -> None:
    note_signature = parse_signature_line(SPEC_NOTE.split("\n")[4])  # the log's own, 64 bytes
    with pytest.raises(ValueError, match="not 72"):
        cosignature_of(note_signature)
    stamped = Cosignature("w", b"\0" * 4, 2**63, b"\0" * 64).line()
    with pytest.raises(ValueError, match="over 2\\^63-1"):
        cosignature_of(parse_signature_line(stamped.rstrip("\n")))


def test_a_witness_verifier_key_has_type_0x04_and_a_logs_key_is_not_one() -> None:
    public_key = bytes(range(32))
    witness = verifier_key("witness.example/w1", public_key, COSIGNATURE_V1)
    assert base64.b64decode(witness.split("+")[2])[0] == 0x04
    assert parse_verifier_key(witness, COSIGNATURE_V1) == ("witness.example/w1", public_key)
    with pytest.raises(ValueError, match="a witness cosignature key"):
        parse_verifier_key(verifier_key("log.example", public_key), COSIGNATURE_V1)
    with pytest.raises(ValueError, match="not Ed25519"):
        parse_verifier_key(witness)
