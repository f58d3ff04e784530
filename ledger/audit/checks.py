"""The checks of the verifier, fed the stored log in position order. No I/O.

Each stored row is first reduced to a ``Fact``: its event decoded and hashed. A batch of facts
is then checked on its own (``checked``: the costly part, which worker processes may do): each
fact against its row (stream and version) and, but for each stream's first in the batch,
against its stream (versions 1..n without gaps, prev_hash = the hash of the previous version).
Pass one (``LogCheck``) takes the batches in order: it checks their first facts against the
tips of the batches before, and rebuilds the tree of the events as they are now, whose root
must match every checkpoint of its size. Only when a root differs does pass two compare the
events with the checkpointed leaves, to name each one that was changed, deleted or inserted.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

import msgspec

from ledger.audit.messages import Check, Checkpoint, Problem
from ledger.domain.chain import GENESIS, event_hash
from ledger.domain.events import LedgerEvent
from ledger.domain.merkle import HASH_SIZE, TreeFrontier, leaf_hash

Row = tuple[int, str, int, str, bytes]
"""position, stream id (32 hex digits), version, topic, state."""
Fact = tuple[int, str, int, str, str, str, int, str | None, str | None]
"""position, row stream, row version, then of the event: its hash, prev_hash, stream, version,
app, env. An event that does not decode has the hash UNKNOWN and the error as prev_hash."""
Leaf = tuple[int, int, str]
"""leaf index, position, event hash."""
DecoderOf = Callable[[str], Callable[[bytes], Any]]
"""The decoder of a topic's stored state."""
Tip = tuple[int, str, str | None, str | None]
"""A stream's last event seen: version, event hash, app, env."""
UNKNOWN = ""
NO_DIGEST = bytes(HASH_SIZE)


def facts_of(rows: Iterable[Row], decoder_of: DecoderOf) -> list[Fact]:
    """Decode and hash each stored row."""
    facts: list[Fact] = []
    decoders: dict[str, Callable[[bytes], Any]] = {}
    for position, stream, version, topic, state in rows:
        try:
            decode = decoders.get(topic)
            if decode is None:
                decode = decoders[topic] = decoder_of(topic)
            event = decode(state)
            if not isinstance(event, LedgerEvent):
                raise TypeError(f"{topic} is not a ledger event")
            hashed = event_hash(event)  # by the event's own scheme (ValueError: unknown)
        except Exception as error:
            facts.append((position, stream, version, UNKNOWN, str(error), "", 0, None, None))
            continue
        facts.append(
            (
                position,
                stream,
                version,
                hashed,
                event.prev_hash,
                event.originator_id.hex,
                event.originator_version,
                event.app,
                event.env,
            )
        )
    return facts


class Chains:
    """Checks facts in position order against their streams' tips; collects problems."""

    def __init__(self) -> None:
        self.tips: dict[str, Tip] = {}
        self.problems: list[Problem] = []

    def check(self, fact: Fact) -> None:
        """Check one fact against its row and its stream's tip, then make it the tip."""
        _, stream, version, hashed, prev_hash, of_stream, of_version, _, _ = fact
        tip = self.tips.get(stream)
        if not hashed:
            self.add("event", f"the stored event does not decode: {prev_hash}", fact)
        elif of_version != version or of_stream != stream:
            self._misfiled(fact)
        if tip is None:
            if version != 1 or (hashed and prev_hash != GENESIS):
                self._first_differs(fact)
        elif version != tip[0] + 1 or (hashed and tip[1] and prev_hash != tip[1]):
            self._link_differs(fact, tip)
        self.tips[stream] = tip_after(fact, tip)

    def add(self, check: Check, detail: str, fact: Fact | None = None, **where: Any) -> None:
        """Record a problem, at a stored row (``fact``) when there is one."""
        if fact is not None:
            position, stream, version, hashed, *_, app, env = fact
            if not hashed and stream in self.tips:
                app, env = self.tips[stream][2:]
            where = {
                "position": position,
                "stream_id": str(UUID(stream)),
                "version": version,
                "app": app,
                "env": env,
                **where,
            }
        self.problems.append(Problem(check=check, detail=detail, **where))

    def _misfiled(self, fact: Fact) -> None:
        _, stream, version, _, _, of_stream, of_version, _, _ = fact
        detail = (
            f"the row is stream {UUID(stream)} version {version} but its content is stream "
            f"{UUID(of_stream)} version {of_version}"
        )
        self.add("event", detail, fact)

    def _first_differs(self, fact: Fact) -> None:
        version, prev_hash = fact[2], fact[4]
        if version != 1:
            detail = f"the stream starts at version {version}: versions 1..{version - 1} missing"
            self.add("stream", detail, fact)
        else:
            detail = f"the first event's prev_hash is {prev_hash}, not the genesis hash"
            self.add("chain", detail, fact)

    def _link_differs(self, fact: Fact, tip: Tip) -> None:
        version, prev_hash, last = fact[2], fact[4], tip[0]
        if version > last + 1:
            missing = f"{last + 1}" if version == last + 2 else f"{last + 1}..{version - 1}"
            detail = f"versions jump from {last} to {version}: version {missing} is missing"
            self.add("stream", detail, fact)
        elif version <= last:
            detail = f"version {version} comes after version {last}: repeated or out of order"
            self.add("stream", detail, fact)
        else:
            detail = (
                f"prev_hash {prev_hash} is not the hash of version {last} ({tip[1]}): "
                f"version {last} or this event was changed"
            )
            self.add("chain", detail, fact)


def tip_after(fact: Fact, tip: Tip | None) -> Tip:
    """A stream's tip after ``fact``: an event that does not decode keeps the app and env
    known from the stream's earlier events."""
    _, _, version, hashed, _, _, _, app, env = fact
    if hashed:
        return (version, hashed, app, env)
    return (version, UNKNOWN, *(tip[2:] if tip else (None, None)))


class Batch(msgspec.Struct, frozen=True):
    """A batch of facts checked on its own (in a worker process, or not): all that the check
    of the whole log needs of it, without an object per event.

    ``openings`` are each stream's first fact in the batch, left for the whole log's check
    (only it knows the stream's tip before the batch); every later fact was checked against
    the batch's own tips, which ``tips`` holds at the batch's end."""

    positions: bytes
    """Each event's position, an ``array("q")``."""
    digests: bytes
    """Each event's hash, 32 bytes (zeros when it does not decode)."""
    leaves: bytes
    """Each event's leaf hash in the tree, 32 bytes."""
    openings: list[Fact]
    tips: dict[str, Tip]
    problems: list[Problem]


def checked(facts: list[Fact]) -> Batch:
    """Check a batch of facts in position order, but for each stream's first."""
    chains, openings = Chains(), []
    positions, digests, leaves = array("q"), bytearray(), bytearray()
    tips = chains.tips
    for fact in facts:
        position, stream, hashed = fact[0], fact[1], fact[3]
        digest = bytes.fromhex(hashed) if hashed else NO_DIGEST
        positions.append(position)
        digests += digest
        leaves += leaf_hash(position.to_bytes(8, "big") + digest)
        if stream in tips:
            chains.check(fact)
        else:
            openings.append(fact)
            tips[stream] = tip_after(fact, None)
    return Batch(
        positions.tobytes(), bytes(digests), bytes(leaves), openings, tips, chains.problems
    )


class LogCheck(Chains):
    """Checks the batches handed to ``feed`` in position order; collects problems."""

    def __init__(self, checkpoints: list[Checkpoint]) -> None:
        super().__init__()
        self.tree = TreeFrontier()
        self.mismatched_roots: list[Checkpoint] = []
        self.positions = array("q")
        self.digests = bytearray()
        self._pending = sorted(checkpoints, key=lambda c: c.tree_size, reverse=True)

    @property
    def events(self) -> int:
        return len(self.positions)

    @property
    def head(self) -> int:
        """The position of the last event checked."""
        return self.positions[-1] if self.positions else 0

    def feed(self, batch: Batch) -> None:
        """Check a batch that follows the previous one: its openings against the tips so far,
        then take its tips, its problems and its leaves."""
        tips = self.tips
        for fact in batch.openings:
            self.check(fact)
        self.problems += [self._placed(problem) for problem in batch.problems]
        for stream, tip in batch.tips.items():  # each was opened in the batch: tips has it
            tips[stream] = tip if tip[2] is not None else (*tip[:2], *tips[stream][2:])
        self.positions.frombytes(batch.positions)
        self.digests += batch.digests
        self._grow(batch.leaves)

    def finish(self) -> None:
        """Report checkpoints the log no longer reaches and roots that do not match."""
        for checkpoint in reversed(self._pending):
            detail = (
                f"checkpoint {checkpoint.tree_size} covers {checkpoint.tree_size} leaves but "
                f"the store holds only {self.tree.size} events: events were deleted"
            )
            self.add("checkpoint", detail, tree_size=checkpoint.tree_size)
            self.mismatched_roots.append(checkpoint)
        self._pending = []
        if self.mismatched_roots:
            first, latest = self.mismatched_roots[0], self.mismatched_roots[-1]
            for checkpoint in dict.fromkeys((first, latest)):
                detail = (
                    f"the tree of the stored events does not have the root "
                    f"{checkpoint.root_hash} signed at size {checkpoint.tree_size} "
                    f"({len(self.mismatched_roots)} checkpoint(s) differ, the first at size "
                    f"{first.tree_size})"
                )
                self.add("tree", detail, tree_size=checkpoint.tree_size)

    def _placed(self, problem: Problem) -> Problem:
        """A batch's problem at an event whose app and env the batch did not know (it did
        not decode, nor did its stream's earlier events in the batch): the stream's."""
        if problem.app is not None or problem.env is not None or problem.stream_id is None:
            return problem
        tip = self.tips.get(UUID(problem.stream_id).hex)
        if tip is None:
            return problem
        return msgspec.structs.replace(problem, app=tip[2], env=tip[3])

    def _grow(self, leaves: bytes) -> None:
        tree, pending = self.tree, self._pending
        for start in range(0, len(leaves), HASH_SIZE):
            tree.append(leaves[start : start + HASH_SIZE])
            if pending and pending[-1].tree_size == tree.size:
                checkpoint = pending.pop()
                if tree.root().hex() != checkpoint.root_hash:
                    self.mismatched_roots.append(checkpoint)


Located = tuple[int, int | None, str]
"""What pass two found: position, leaf index, detail."""
INSERTED = "this event is not in the checkpointed tree: it was inserted afterwards"


def compare_leaves(check: LogCheck, leaves: Iterable[Leaf]) -> Iterable[Located]:
    """Pass two: merge the events (by position) with the checkpointed leaves, in order.
    Events after the last leaf are not yet in the tree: they are not compared."""
    positions, digests, count = check.positions, check.digests, check.events
    i = 0
    for leaf_index, position, leaf_hex in leaves:
        while i < count and positions[i] < position:
            yield positions[i], None, INSERTED
            i += 1
        if i < count and positions[i] == position:
            hashed = digests[i * 32 : i * 32 + 32].hex()
            if hashed != leaf_hex:
                detail = (
                    f"the event hashes to {hashed} but leaf {leaf_index} recorded {leaf_hex}: "
                    "the event was changed after it was checkpointed"
                )
                yield position, leaf_index, detail
            i += 1
        else:
            detail = f"the event of leaf {leaf_index} is missing from the store: it was deleted"
            yield position, leaf_index, detail
