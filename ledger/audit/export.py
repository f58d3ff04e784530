"""The verification export: the log as a third party verifies it (docs/verification.md).

NDJSON, one JSON object a line, each with its ``kind``: a ``header``; every ``checkpoint``
(oldest first, before the events, so that a verifier checks each root as its tree grows); one
``event`` line per event in log order, covered by a checkpoint or not (``leaf_index`` null
after the last leaf), each with its form exactly as hashed; then an ``end`` line with the counts
(a cut-short file has none). A form never holds a secret in plain text: new events commit to
their secret values (hash scheme 3); an older event whose form would show one has no form
(``withheld: "secret"``) and only its hash, which the chain and the tree still check.

Everything is read in one snapshot of the store, page by page: memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from ledger.audit.checks import Leaf, Row
from ledger.audit.messages import Checkpoint
from ledger.audit.proofs import cosignature_shown, with_public_key
from ledger.audit.reader import EventDecoder, LogReader, open_reader
from ledger.audit.signing import Signer
from ledger.domain.canonical import canonical_json
from ledger.domain.chain import event_hash
from ledger.domain.commitments import COMMITTED_SCHEME, declared_by, hashed_form, secret_in
from ledger.domain.events import ConfigChanged, LedgerEvent, ReleaseCreated
from ledger.domain.notes import verifier_key
from ledger.eventstore.dialect import Dialect
from ledger.settings import Settings

EXPORT_FORMAT = "release-ledger-export"
EXPORT_VERSION = 1
PAGE = 5_000
SECRET = "secret"
UNREADABLE = "unreadable"


class ExportHeader(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="header"):
    format: str = EXPORT_FORMAT
    version: int = EXPORT_VERSION
    origin: str
    verifier_key: str | None
    tree_size: int
    head: int
    exported_at: str


class ExportedCheckpoint(Checkpoint, frozen=True, kw_only=True, tag_field="kind", tag="checkpoint"):
    """A checkpoint as GET /v1/checkpoints/{tree_size} answers it."""


class ExportedEvent(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag_field="kind", tag="event"
):
    position: int
    leaf_index: int | None
    stream_id: str
    version: int
    type: str
    hash_scheme: int | None
    hash: str | None
    prev_hash: str | None
    form: msgspec.Raw | None
    withheld: str | None = None
    detail: str | None = None


class ExportEnd(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="end"):
    events: int
    withheld: int
    checkpoints: int


ExportLine = ExportHeader | ExportedCheckpoint | ExportedEvent | ExportEnd
"""One line of the export, by its ``kind``."""
_encode = msgspec.json.Encoder().encode


def export_file(
    settings: Settings, dialect: Dialect, signer: Signer | None
) -> Generator[bytes, None, None]:
    """The export of the store, chunk by chunk, read in one snapshot (a generator: run it in
    one thread from start to end; closing it ends the snapshot)."""
    with open_reader(settings, dialect) as reader:
        yield from export_lines(reader, EventDecoder(settings), settings, signer)


def export_lines(
    reader: LogReader, decode: EventDecoder, settings: Settings, signer: Signer | None
) -> Iterator[bytes]:
    """The lines of the export, a page at a time."""
    checkpoints, head = reader.checkpoints(), reader.head()
    origin = settings.checkpoint_origin()
    header = ExportHeader(
        origin=origin,
        verifier_key=None if signer is None else verifier_key(origin, signer.public_key),
        tree_size=checkpoints[-1].tree_size if checkpoints else 0,
        head=head,
        exported_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    yield _encode(header) + b"\n"
    cosigned = _cosignatures_by_size(reader.cosignatures())
    shown = (with_public_key(c, signer) for c in checkpoints)
    yield b"".join(_encode(_exported_checkpoint(c, cosigned)) + b"\n" for c in shown)
    events = Exporter(decode, LeafCursor(reader))
    after = 0
    while rows := reader.rows(after, PAGE, head):
        yield b"".join(_encode(events.line(row)) + b"\n" for row in rows)
        after = rows[-1][0]
    end = ExportEnd(events=events.count, withheld=events.withheld, checkpoints=len(checkpoints))
    yield _encode(end) + b"\n"


def _exported_checkpoint(
    checkpoint: Checkpoint, cosigned: dict[int, list[str]]
) -> ExportedCheckpoint:
    """The checkpoint with the witnesses' cosignature lines the ledger holds of it, after the
    log's signature in its note (as GET /v1/checkpoints/{tree_size} serves it as text)."""
    lines = cosigned.get(checkpoint.tree_size, []) if checkpoint.note else []
    exported = ExportedCheckpoint(**msgspec.structs.asdict(checkpoint))
    if not lines:
        return exported
    return msgspec.structs.replace(
        exported,
        note=str(checkpoint.note) + "".join(lines),
        cosignatures=tuple(cosignature_shown(line) for line in lines),
    )


def _cosignatures_by_size(rows: list[tuple[int, str]]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for size, line in rows:
        found.setdefault(size, []).append(line if line.endswith("\n") else line + "\n")
    return found


class LeafCursor:
    """The stored leaves in order, read a page at a time, looked up by increasing position."""

    def __init__(self, reader: LogReader) -> None:
        self._reader = reader
        self._page: list[Leaf] = []
        self._at = 0
        self._next_index = 0
        self._done = False

    def at(self, position: int) -> Leaf | None:
        """The leaf of the event at ``position`` (None when it has none): leaves of lower
        positions are passed over (their events are missing from the store)."""
        while (leaf := self._peek()) is not None and leaf[1] <= position:
            self._at += 1
            if leaf[1] == position:
                return leaf
        return None

    def _peek(self) -> Leaf | None:
        if self._at == len(self._page) and not self._done:
            self._page = self._reader.leaves(self._next_index, PAGE)
            self._at = 0
            self._done = not self._page
            if self._page:
                self._next_index = self._page[-1][0] + 1
        return None if self._done else self._page[self._at]


class Exporter:
    """Each stored row as its event line; knows the keys each environment declared secret so
    far (in log order), to tell which old events' forms would show a secret."""

    def __init__(self, decode: EventDecoder, leaves: LeafCursor) -> None:
        self._decode = decode
        self._leaves = leaves
        self._declared: dict[tuple[str, str | None], set[str]] = {}
        self.count = 0
        self.withheld = 0

    def line(self, row: Row) -> ExportedEvent:
        position, stream, version, topic, state = row
        leaf = self._leaves.at(position)
        self.count += 1
        line = ExportedEvent(
            position=position, leaf_index=None if leaf is None else leaf[0],
            stream_id=str(UUID(stream)), version=version, type=topic.rpartition(":")[2],
            hash_scheme=None, hash=None if leaf is None else leaf[2], prev_hash=None, form=None,
        )  # fmt: skip
        try:
            event = self._decode(topic)(state)
            if not isinstance(event, LedgerEvent):
                raise TypeError(f"{topic} is not a ledger event")
            hashed = line.hash or event_hash(event)
            form = None if self._shows_secret(event) else canonical_json(hashed_form(event))
        except Exception as error:
            self.withheld += 1
            return msgspec.structs.replace(line, withheld=UNREADABLE, detail=str(error))
        self.withheld += form is None
        return msgspec.structs.replace(
            line,
            hash_scheme=event.hash_scheme,
            hash=hashed,
            prev_hash=event.prev_hash,
            form=None if form is None else msgspec.Raw(form),
            withheld=SECRET if form is None else None,
        )

    def _shows_secret(self, event: LedgerEvent) -> bool:
        """Whether the event's form would show a secret value in plain text (an event made
        before commitments), and learn the keys it declares secret."""
        declared = self._declared.setdefault((event.app, event.env), set())
        committed = event.committed_keys if event.hash_scheme >= COMMITTED_SCHEME else ()
        shown = set(secret_in(event, declared)) - set(committed)
        if isinstance(event, ConfigChanged | ReleaseCreated):
            declared.update(declared_by(event))
        return bool(shown)
