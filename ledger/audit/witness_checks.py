"""The verifier's witness check: the latest checkpoint is trusted only with the cosignatures
required (at least ``required`` valid ones, by distinct witnesses among the keys given), and
every stored cosignature by those keys must still verify over the checkpoint it was given
for: a checkpoint changed or deleted after a witness cosigned it is named."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.audit.cosigning import WitnessKey, cosigned_by, cosigners
from ledger.audit.messages import Checkpoint, Problem
from ledger.domain.notes import NoteSignature, parse_signature_line, split_note

Cosignatures = dict[int, list[NoteSignature]]
"""The stored cosignature lines, parsed, by tree size."""


def parsed_cosignatures(rows: Sequence[tuple[int, str]]) -> Cosignatures:
    """Stored (tree size, line) rows by tree size; a line that does not parse is skipped
    (it verifies as no one's)."""
    found: Cosignatures = {}
    for tree_size, line in rows:
        try:
            found.setdefault(tree_size, []).append(parse_signature_line(line.rstrip("\n")))
        except ValueError:
            continue
    return found


def check_witnesses(
    checkpoints: Sequence[Checkpoint],
    cosignatures: Cosignatures,
    witnesses: Sequence[WitnessKey],
    required: int,
) -> tuple[int, list[Problem]]:
    """The valid cosignatures of the latest checkpoint by the witnesses, and the problems."""
    if not witnesses:
        return 0, []
    by_size = {c.tree_size: c for c in checkpoints}
    problems = [
        problem
        for tree_size, lines in sorted(cosignatures.items())
        for witness in witnesses
        if (problem := _stale(by_size.get(tree_size), tree_size, lines, witness)) is not None
    ]
    latest = checkpoints[-1] if checkpoints else None
    lines = cosignatures.get(latest.tree_size, []) if latest is not None else []
    count = 0 if latest is None else len(_valid(latest, lines, witnesses))
    if latest is not None and count < required:
        problems.append(_untrusted(latest, count, required, witnesses))
    return count, problems


def _valid(
    checkpoint: Checkpoint, lines: list[NoteSignature], witnesses: Sequence[WitnessKey]
) -> list[WitnessKey]:
    if checkpoint.note is None:
        return []
    body, _ = split_note(checkpoint.note)
    return cosigners(body, lines, witnesses)


def _stale(
    checkpoint: Checkpoint | None, tree_size: int, lines: list[NoteSignature], witness: WitnessKey
) -> Problem | None:
    """A witness's cosignature of a tree that the checkpoint of its size no longer is."""
    if not any(witness.names(line) for line in lines):
        return None
    if checkpoint is None:
        detail = (
            f"witness {witness.name} cosigned checkpoint {tree_size}, which the store no longer "
            "holds: the log was truncated, or the checkpoint deleted"
        )
        return Problem(check="witness", detail=detail, tree_size=tree_size)
    body = split_note(checkpoint.note)[0] if checkpoint.note is not None else ""
    if cosigned_by(body, lines, witness) is not None:
        return None
    detail = (
        f"the cosignature of witness {witness.name} does not verify over checkpoint "
        f"{tree_size}: the checkpoint was changed after the witness cosigned it"
    )
    return Problem(check="witness", detail=detail, tree_size=tree_size)


def _untrusted(
    latest: Checkpoint, count: int, required: int, witnesses: Sequence[WitnessKey]
) -> Problem:
    names = ", ".join(dict.fromkeys(w.name for w in witnesses))
    detail = (
        f"checkpoint {latest.tree_size} carries {count} valid cosignature(s) of the {required} "
        f"required (witnesses: {names}): it is not trusted; a witness may have refused it "
        "(see `ledger checkpoint`), or not cosigned it yet"
    )
    return Problem(check="witness", detail=detail, tree_size=latest.tree_size)
