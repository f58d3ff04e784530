"""The verifier: re-reads every event in log order and reports exactly what was tampered with.

It recomputes each event's hash, checks every stream's chain (prev_hash links, versions 1..n
without gaps), compares each event with the leaf checkpointed at its position, rebuilds the
tree and compares its root with every checkpoint, and checks the checkpoints' signatures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from ledger.audit.checks import Batch, Leaf, LogCheck, checked, compare_leaves, facts_of
from ledger.audit.cosigning import WitnessKey
from ledger.audit.messages import Checkpoint, Problem, SignatureState, VerifyReport
from ledger.audit.notes import signature_problem
from ledger.audit.parallel import parallel_batches
from ledger.audit.reader import EventDecoder, LogReader, open_reader
from ledger.audit.signing import key_id_of
from ledger.audit.witness_checks import check_witnesses, parsed_cosignatures
from ledger.domain.merkle import TreeFrontier, leaf_hash
from ledger.eventstore.application import LedgerStore
from ledger.eventstore.dialect import Dialect
from ledger.settings import Settings

BATCH = 20_000
PARALLEL_FROM = 2 * BATCH
"""Below this many events, starting worker processes costs more than it saves."""
MAX_LOCATED = 1000
Progress = Callable[[int, int], None]


def verify_log(
    store: LedgerStore,
    public_key: bytes | None,
    progress: Progress | None = None,
    *,
    jobs: int = 1,
    key_name: str | None = None,
    witnesses: Sequence[WitnessKey] = (),
    min_cosignatures: int = 0,
) -> VerifyReport:
    """Verify the whole log against its chains and its checkpoints, and their signatures.

    With ``jobs`` > 1 and a long log, worker processes decode, hash and check ranges of
    positions (each in a snapshot of its own, up to the head read at the start). Events of
    either hash scheme and checkpoints of either format (v1, notes) are checked as they are;
    ``key_name`` pins the key name of the notes' signatures (default: each note's origin).
    With ``witnesses``, the latest checkpoint must carry ``min_cosignatures`` valid
    cosignatures by them, and each of theirs stored must verify over its checkpoint."""
    started = time.perf_counter()
    settings, dialect = store.settings, Dialect.of(store)
    with open_reader(settings, dialect) as reader:
        checkpoints, head = reader.checkpoints(), reader.head()
        cosignatures = parsed_cosignatures(reader.cosignatures()) if witnesses else {}
        check = LogCheck(checkpoints)
        for batch in _batches(reader, settings, dialect, head, jobs):
            check.feed(batch)
            if progress is not None:
                progress(check.head, head)
        check.finish()
        if check.mismatched_roots:
            notes = locate(reader, check, checkpoints, EventDecoder(settings))
        else:
            notes = []
    signature, signature_problems, signature_warnings = check_signatures(
        checkpoints, public_key, key_name
    )
    cosigned, witness_problems = check_witnesses(
        checkpoints, cosignatures, witnesses, min_cosignatures
    )
    seconds = time.perf_counter() - started
    latest = checkpoints[-1] if checkpoints else None
    problems = sorted(check.problems, key=_where) + signature_problems + witness_problems
    return VerifyReport(
        ok=not problems,
        events=check.events,
        streams=len(check.tips),
        head=head,
        checkpoints=len(checkpoints),
        latest_checkpoint=latest,
        signature=signature,
        uncovered=max(0, check.events - (latest.tree_size if latest else 0)),
        problems=problems,
        warnings=_coverage(check, latest) + signature_warnings + notes,
        seconds=round(seconds, 3),
        events_per_second=round(check.events / seconds) if seconds else 0,
        cosignatures=cosigned,
    )


def _batches(
    reader: LogReader, settings: Settings, dialect: Dialect, head: int, jobs: int
) -> Iterator[Batch]:
    """The log up to ``head``, batch by batch, checked here or in worker processes."""
    if jobs > 1 and head > PARALLEL_FROM:
        yield from parallel_batches(settings, dialect, head, jobs, BATCH)
        return
    decode, after = EventDecoder(settings), 0
    while rows := reader.rows(after, BATCH, head):
        yield checked(facts_of(rows, decode))
        after = rows[-1][0]


def _where(problem: Problem) -> tuple[int, int]:
    return (problem.position or 0, problem.tree_size or 0)


def _coverage(check: LogCheck, latest: Checkpoint | None) -> list[str]:
    if latest is None:
        return ["no checkpoint yet: the hash chains were checked, the events are not yet covered"]
    uncovered = check.events - latest.tree_size
    if uncovered > 0:
        return [f"{uncovered} event(s) after the latest checkpoint are not yet covered by one"]
    return []


def check_signatures(
    checkpoints: list[Checkpoint], public_key: bytes | None, key_name: str | None = None
) -> tuple[SignatureState, list[Problem], list[str]]:
    """The state of the latest checkpoint's signature, invalid signatures, and warnings.
    A note checkpoint is checked under ``key_name`` when given, else under its origin."""
    if not checkpoints:
        return "none", [], []
    found = [_signature_state(c, public_key, key_name) for c in checkpoints]
    states: list[SignatureState] = [state for state, _ in found]
    problems = [
        Problem(
            check="signature",
            detail=f"the signature of checkpoint {c.tree_size} is invalid: {why}; the "
            "checkpoint (size, root, origin or time) was changed after it was signed, or forged",
            tree_size=c.tree_size,
        )
        for c, (state, why) in zip(checkpoints, found, strict=True)
        if state == "invalid"
    ]
    warnings = []
    if (count := states.count("unsigned")) > 0:
        warnings.append(f"{count} checkpoint(s) are not signed (no LEDGER_SIGNING_KEY)")
    if (count := states.count("unknown-key")) > 0:
        warnings.append(f"{count} checkpoint signature(s) not checked: signed by another key")
    return states[-1], problems, warnings


def _signature_state(
    checkpoint: Checkpoint, public_key: bytes | None, key_name: str | None
) -> tuple[SignatureState, str]:
    if checkpoint.signature is None:
        return "unsigned", ""
    if public_key is None or checkpoint.key_id != key_id_of(public_key):
        return "unknown-key", ""
    problem = signature_problem(checkpoint, public_key, key_name)
    return ("valid", "") if problem is None else ("invalid", problem)


def locate(
    reader: LogReader, check: LogCheck, checkpoints: list[Checkpoint], decode: EventDecoder
) -> list[str]:
    """Pass two, when a root differs: name each event changed, deleted or inserted since it
    was checkpointed, and say whether the leaf records themselves still match the checkpoints."""
    records = LeafRecords(reader, checkpoints)
    for count, (position, leaf_index, detail) in enumerate(compare_leaves(check, records)):
        if count == MAX_LOCATED:
            return [f"more than {MAX_LOCATED} events differ from their leaves; the first shown"]
        row = reader.row_at(position)
        fact = facts_of([row], decode)[0] if row is not None else None
        where = {"position": position} if fact is None else {}
        check.add("leaf", detail, fact, leaf_index=leaf_index, **where)
    return [records.verdict()]


class LeafRecords:
    """The checkpointed leaves in order, read in batches; checks them against the
    checkpoints as they pass (were the leaf records rewritten as well?)."""

    def __init__(self, reader: LogReader, checkpoints: list[Checkpoint]) -> None:
        self.reader = reader
        self.tree = TreeFrontier()
        self.checkpoints = {c.tree_size: c for c in checkpoints}
        self.broken: list[int] = []
        self.skipped: int | None = None

    def __iter__(self) -> Iterator[Leaf]:
        tree = self.tree
        while leaves := self.reader.leaves(tree.size, BATCH):
            for leaf_index, position, hashed in leaves:
                if leaf_index != tree.size:
                    self.skipped = tree.size
                    return
                tree.append(leaf_hash(position.to_bytes(8, "big") + bytes.fromhex(hashed)))
                checkpoint = self.checkpoints.get(tree.size)
                if checkpoint is not None and tree.root().hex() != checkpoint.root_hash:
                    self.broken.append(tree.size)
                yield leaf_index, position, hashed

    def verdict(self) -> str:
        if self.skipped is not None:
            return f"the leaf records skip leaf {self.skipped}: they were altered as well"
        if self.broken:
            return f"the leaf records do not match checkpoint(s) {self.broken}: altered as well"
        return "the leaf records match every checkpoint: the events named were altered"
