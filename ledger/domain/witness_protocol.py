"""The texts of the witness protocol (c2sp.org/tlog-witness), pure (no I/O).

``POST <submission prefix>/add-checkpoint`` carries an **old size line**, zero to 63
**consistency proof lines**, an empty line, then the **signed note** of the checkpoint::

    old 20852014
    PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
    jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=

    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5…

The old size is the size of the checkpoint the witness last cosigned for the origin (0 when it
never did): ASCII decimal, no leading zero. Each proof line is one hash in standard base64;
the proof (RFC 6962, 2.1.2) leads from the old size to the checkpoint's, and is empty when
the old size is 0. The witness answers 200 with one or more cosignature lines, or 409 Conflict
with a ``text/x.tlog.size`` body (its size in decimal and a newline) when the old size is
not its own, and when a checkpoint of its size has another root.
"""

from __future__ import annotations

import base64
from typing import NamedTuple

from ledger.domain.notes import (
    NoteSignature,
    decoded_base64,
    parse_decimal,
    parse_signature_line,
)

MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"
"""The media type of a 409 Conflict's body: the witness's tree size."""
OLD_PREFIX = "old "


class AddCheckpoint(NamedTuple):
    """An add-checkpoint request: the size the client thinks the witness has, the proof from
    that size to the checkpoint's, and the checkpoint's signed note."""

    old_size: int
    proof: list[bytes]
    note: str


def add_checkpoint_body(request: AddCheckpoint) -> str:
    """The request body of add-checkpoint."""
    if len(request.proof) > MAX_PROOF_LINES:
        raise ValueError(f"a proof of {len(request.proof)} hashes is over {MAX_PROOF_LINES}")
    lines = [f"{OLD_PREFIX}{request.old_size}"]
    lines += [base64.b64encode(node).decode() for node in request.proof]
    return "\n".join(lines) + "\n\n" + request.note


def parse_add_checkpoint(text: str) -> AddCheckpoint:
    """The request an add-checkpoint body holds; ValueError saying what is malformed."""
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise ValueError("the body has no empty line between the old size and the checkpoint")
    old, *proof_lines = head.split("\n")
    if not old.startswith(OLD_PREFIX):
        raise ValueError(f"the first line is {old!r}, not 'old <size>'")
    old_size = parse_decimal(old.removeprefix(OLD_PREFIX), "old size")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise ValueError(f"the proof has {len(proof_lines)} lines, over {MAX_PROOF_LINES}")
    proof = [decoded_base64(line, 32, "consistency proof hash") for line in proof_lines]
    return AddCheckpoint(old_size, proof, note)


def size_body(size: int) -> str:
    """The body of a 409 Conflict: the witness's tree size and a newline."""
    return f"{size}\n"


def parse_size_body(text: str) -> int:
    """The tree size of a 409 Conflict's body; ValueError when it is not one."""
    if not text.endswith("\n"):
        raise ValueError("a text/x.tlog.size body ends with a newline")
    return parse_decimal(text[:-1], "tree size")


def parse_cosignature_lines(text: str) -> list[NoteSignature]:
    """The signature lines of a 200 answer (one or more, each ending in a newline)."""
    if not text.endswith("\n") or text == "\n":
        raise ValueError("the answer is not signature lines each ending in a newline")
    return [parse_signature_line(line) for line in text[:-1].split("\n")]
