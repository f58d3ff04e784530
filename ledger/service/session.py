"""A batch's session: the streams its commands read and extend, saved together in one
transaction, and what each command decided."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from uuid import UUID

import msgspec

from ledger.domain.errors import DomainError
from ledger.domain.events import EventRef, LedgerEvent, Snapshot
from ledger.domain.model import Environment, Stream, evolve
from ledger.domain.moments import moment_of, moment_snapshot
from ledger.domain.names import policy_id
from ledger.domain.policies import EVERY_APP, Policy, default_policy, resolve
from ledger.domain.policy import Rules
from ledger.domain.policy_levels import PolicyLevel
from ledger.domain.runtime import Runtime
from ledger.eventstore.application import LedgerStore
from ledger.wire.shapes import WriteResult


class FlushFirst(Exception):
    """The command needs the stored past of a stream changed earlier in the same batch."""


class Session:
    """The streams a batch of commands reads and extends; saved together in one transaction."""

    def __init__(
        self,
        store: LedgerStore,
        cache: OrderedDict[UUID, Stream],
        rules: Rules | None = None,
        intervals: tuple[int, int] = (0, 0),
    ) -> None:
        self.store = store
        self.cache = cache
        self.rules = rules or Rules()
        self.snapshot_interval, self.moment_interval = intervals  # 0: none
        self.pending: list[LedgerEvent] = []
        self.touched: set[UUID] = set()
        self.snapshots: list[Snapshot] = []  # saved after the events, when they are
        self.crossed: set[UUID] = set()  # environments to snapshot whole after the save
        self.levels: dict[UUID, PolicyLevel | None] = {}

    def policy(self, app: str, env: str) -> Policy:
        """The policy in force in the environment: read from the store once per batch, not
        from the cache, so a change another process recorded applies at once."""
        star, own = self._level(EVERY_APP, env), self._level(app, env)
        return resolve(default_policy(self.rules, env), star, own)

    def _level(self, app: str, env: str) -> PolicyLevel | None:
        stream_id = policy_id(app, env)
        if stream_id in self.touched:
            state = self.cache.get(stream_id)
        elif stream_id in self.levels:
            return self.levels[stream_id]
        else:
            state = self.store.load(stream_id)
            if state is not None:
                self.cache[stream_id] = state
        level = state if isinstance(state, PolicyLevel) else None
        self.levels[stream_id] = level
        return level

    def get(self, stream_id: UUID) -> Stream | None:
        state = self.cache.get(stream_id)
        if state is None:
            state = self.store.load(stream_id)
            if state is not None:
                self.cache[stream_id] = state
        return state

    def past(self, stream_id: UUID, version: int) -> Environment | None:
        """An environment as it was at a version (a moment: its open releases only)."""
        if stream_id in self.touched:
            raise FlushFirst
        moment = self.store.moment(stream_id, version)
        return moment.state if moment else None

    def record(self, events: list[LedgerEvent]) -> None:
        for event in events:
            state = evolve(self.cache.get(event.originator_id), event)
            self.cache[event.originator_id] = state
            self.touched.add(event.originator_id)
            self.pending.append(event)
            if isinstance(state, Environment):
                self._snapshot(state, event.timestamp)
            elif isinstance(state, Runtime) and self._crosses(state):
                self.crossed.add(state.id)  # reporters' changes make long streams too

    def _snapshot(self, state: Environment, timestamp: datetime) -> None:
        """Environments (long streams) are snapshotted as a moment at exactly every
        ``moment_interval``-th version (reads of the past replay fewer events than that), and
        whole once the batch is saved when they crossed a multiple of ``snapshot_interval``
        (the newest state is what commands load)."""
        if self.moment_interval and state.version % self.moment_interval == 0:
            self.snapshots.append(moment_snapshot(moment_of(state), timestamp))
        if self._crosses(state):
            self.crossed.add(state.id)

    def _crosses(self, state: Stream) -> bool:
        """Whether the stream is at a multiple of the snapshot interval."""
        return bool(self.snapshot_interval) and state.version % self.snapshot_interval == 0


class Decided(msgspec.Struct, kw_only=True):
    """What a command did: its events (none for a repeat) and the answer without its position."""

    events: list[LedgerEvent]
    result: WriteResult
    replay_of: EventRef | None = None
    refusal: DomainError | None = None  # its events recorded, then raised to the caller
