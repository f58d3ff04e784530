"""Verifying an export as docs/verification.md says (`ledger audit verify-export`): in one pass
and bounded memory (the tips of the streams and the tree's frontier), trusting nothing but the
pinned verifier key and the witnesses' keys.

    checker = ExportChecker(parse_pinned_key(VERIFIER_KEY))
    with open("ledger-audit.ndjson", encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            checker.feed(number, line)
    verdict = checker.finish()
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from ledger.audit.cosigning import WitnessKey
from ledger.audit.export import EXPORT_FORMAT, EXPORT_VERSION, SECRET
from ledger.audit.export_rules import (
    Malformed,
    checkpoint_problems,
    cosigned_by,
    count,
    form_problems,
    hash_member,
    parse_line,
)
from ledger.audit.signing import PinnedKey, parse_pinned_key
from ledger.domain.chain import GENESIS
from ledger.domain.merkle import TreeFrontier, event_leaf_data, leaf_hash


class Failure(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing found wrong, and where: the export's line, and the event's place."""

    line: int
    detail: str
    position: int | None = None
    stream_id: str | None = None
    version: int | None = None
    tree_size: int | None = None


class ExportVerdict(Struct, kw_only=True):
    ok: bool
    events: int
    streams: int
    withheld: int
    uncovered: int
    checkpoints: int
    latest: int
    cosigned_by: list[str]
    failures: list[Failure]
    warnings: list[str]


class ExportChecker:
    """Feed it the export's lines in order, then ask for the verdict."""

    def __init__(
        self,
        key: PinnedKey | None,
        witnesses: list[WitnessKey] | None = None,
        quorum: int = 0,
        *,
        allow_unsigned: bool = False,
    ) -> None:
        self.key, self.witnesses, self.quorum = key, witnesses or [], quorum
        self.allow_unsigned = allow_unsigned
        self.origin = ""
        self.started = self.ended = False
        self.roots: dict[int, str] = {}
        self.cosigned: dict[int, list[str]] = {}
        self.tips: dict[str, tuple[int, str | None]] = {}
        self.tree = TreeFrontier()
        self.position = 0
        self.withheld = 0
        self.failures: list[Failure] = []
        self.warnings: list[str] = []
        self._number = 0
        self._leaf_shift = 0

    def feed(self, number: int, text: str) -> None:
        """Check one line (``number``: where it is, for the report)."""
        self._number = number
        line: dict[str, Any] | None = None
        try:
            line = parse_line(text)
            kind = line.get("kind")
            if self.ended:
                raise Malformed("a line after the end line")
            if not self.started and kind != "header":
                raise Malformed("the first line is not the header")
            handlers = {
                "header": self._header,
                "checkpoint": self._checkpoint,
                "event": self._event,
                "end": self._end,
            }
            if kind not in handlers:
                raise Malformed(f"unknown kind {kind!r}")
            handlers[str(kind)](line)
        except (Malformed, KeyError, TypeError, ValueError) as error:
            detail = f"missing member {error}" if isinstance(error, KeyError) else str(error)
            self.fail(detail, line)

    def fail(self, detail: str, line: dict[str, Any] | None = None, **where: Any) -> None:
        """Record a failure at the current line (at its event's place, for an event line)."""
        if line is not None and line.get("kind") == "event":
            place = {k: line.get(k) for k in ("position", "stream_id", "version")}
            where = {k: v for k, v in place.items() if v is not None} | where
        self.failures.append(Failure(line=self._number, detail=detail, **where))

    def _header(self, line: dict[str, Any]) -> None:
        if self.started:
            raise Malformed("a second header")
        self.started = True
        if (line.get("format"), line.get("version")) != (EXPORT_FORMAT, EXPORT_VERSION):
            raise Malformed(f"not a {EXPORT_FORMAT} of version {EXPORT_VERSION}")
        self.origin = str(line["origin"])
        if self.key is None and line.get("verifier_key") is not None:
            self.key = parse_pinned_key(str(line["verifier_key"]))
            self.warnings.append("no key pinned: the export's own verifier key was used")
        if self.key is None:
            self.warnings.append("no key: the checkpoints' signatures are not checked")
        elif self.key.name is not None and self.key.name != self.origin:
            self.fail(f"the export is of the log {self.origin!r}, the key of {self.key.name!r}")

    def _checkpoint(self, line: dict[str, Any]) -> None:
        if self.tree.size:
            raise Malformed("a checkpoint after the first event")
        size, root = count(line, "tree_size"), hash_member(line, "root_hash")
        assert size is not None and root is not None
        if self.roots and size <= max(self.roots):
            raise Malformed(f"checkpoint {size} does not come after checkpoint {max(self.roots)}")
        self.roots[size] = root
        key, unsigned = self.key, self.allow_unsigned
        problems = checkpoint_problems(line, self.origin, key, allow_unsigned=unsigned)
        self.cosigned[size], cosignature_problems = cosigned_by(line, self.witnesses)
        for problem in problems + cosignature_problems:
            self.fail(f"checkpoint {size}: {problem}", tree_size=size)

    def _event(self, line: dict[str, Any]) -> None:
        position, index = count(line, "position"), count(line, "leaf_index", nullable=True)
        version, stream = count(line, "version"), line.get("stream_id")
        assert position is not None and version is not None
        if not isinstance(stream, str):
            raise Malformed("stream_id is not a string")
        if position <= self.position:
            self.fail(f"position {position} does not come after position {self.position}", line)
        self.position = max(self.position, position)
        self._place_in_tree(line, index)
        hashed = self._hash_checked(line)
        self._link(line, stream, version, hashed)
        self.tree_grows(position, hashed)

    def _place_in_tree(self, line: dict[str, Any], index: int | None) -> None:
        n = self.tree.size
        if index is not None and index != n + self._leaf_shift:
            detail = f"leaf_index is {index} but this is event {n} of the export (from 0)"
            self.fail(f"{detail}: event lines are missing or added", line)
            self._leaf_shift = index - n  # reported once, not again for every later line
        latest = max(self.roots, default=0)
        if index is None and n < latest:
            self.fail(f"event {n} has no leaf_index but checkpoint {latest} covers it", line)

    def _hash_checked(self, line: dict[str, Any]) -> str | None:
        """The event's hash, once its form (if shown) was found to hash to it."""
        if line.get("form") is None:
            self.withheld += 1
            if line.get("withheld") != SECRET:
                reason = line.get("detail") or line.get("withheld")
                self.fail(f"the event has no form: {reason}", line)
            elif line.get("hash_scheme") not in (1, 2):
                scheme = line.get("hash_scheme")
                self.fail(f"a withheld event of hash scheme {scheme}: only 1 and 2 are", line)
            return hash_member(line, "hash", nullable=True)
        hashed = hash_member(line, "hash")
        hash_member(line, "prev_hash")
        for problem in form_problems(line):
            self.fail(problem, line)
        return hashed

    def _link(self, line: dict[str, Any], stream: str, version: int, hashed: str | None) -> None:
        """The chain rule: versions 1..n, each prev_hash the hash of the version before."""
        tip, prev_hash = self.tips.get(stream), line.get("prev_hash")
        if tip is None and version != 1:
            self.fail(f"the stream's first event is version {version}, not 1", line)
        elif tip is None and prev_hash != GENESIS:
            self.fail("the stream's first event's prev_hash is not 64 zeros", line)
        elif tip is not None and version != tip[0] + 1:
            self.fail(f"version {version} follows version {tip[0]} of the stream", line)
        elif tip is not None and tip[1] is not None and prev_hash != tip[1]:
            detail = f"prev_hash {prev_hash} is not the hash of version {tip[0]} ({tip[1]})"
            self.fail(detail, line)
        self.tips[stream] = (version, hashed)

    def tree_grows(self, position: int, hashed: str | None) -> None:
        """Append the event's leaf; check the root when a checkpoint has this size."""
        digest = bytes.fromhex(hashed) if hashed else bytes(32)
        self.tree.append(leaf_hash(event_leaf_data(position, digest)))
        size, root = self.tree.size, self.roots.get(self.tree.size)
        if root is not None and self.tree.root().hex() != root:
            detail = f"the first {size} events' tree has the root {self.tree.root().hex()}"
            self.fail(f"{detail}, not checkpoint {size}'s {root}", tree_size=size)

    def _end(self, line: dict[str, Any]) -> None:
        self.ended = True
        found = (line.get("events"), line.get("withheld"), line.get("checkpoints"))
        held = (self.tree.size, self.withheld, len(self.roots))
        if found != held:
            self.fail(
                f"the end line counts {found} events, withheld and checkpoints, but the export "
                f"holds {held}: lines were removed or added"
            )

    def finish(self) -> ExportVerdict:
        """The verdict, once every line was fed."""
        self._number += 1
        if not self.ended:
            self.fail("the export has no end line: it was cut short")
        for size in [s for s in self.roots if s > self.tree.size]:
            detail = f"checkpoint {size} covers more events than the export holds"
            self.fail(f"{detail} ({self.tree.size}): events were removed", tree_size=size)
        latest = max(self.roots, default=0)
        cosigned = self.cosigned.get(latest, [])
        if self.quorum and len(cosigned) < self.quorum:
            names = ", ".join(cosigned) or "none"
            detail = f"checkpoint {latest} is cosigned by {len(cosigned)} witness(es) ({names})"
            self.fail(f"{detail}, fewer than {self.quorum}", tree_size=latest)
        return ExportVerdict(
            ok=not self.failures,
            events=self.tree.size,
            streams=len(self.tips),
            withheld=self.withheld,
            uncovered=max(0, self.tree.size - latest),
            checkpoints=len(self.roots),
            latest=latest,
            cosigned_by=cosigned,
            failures=self.failures,
            warnings=self.warnings,
        )
