"""The sizes of a run (full or quick) and what every scenario shares while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
import msgspec

from ledger.bench.server import LedgerProcess
from ledger.bench.workload import Workload


class Sizes(msgspec.Struct, frozen=True, kw_only=True):
    apps: int  # times envs environments, the flips are spread over
    envs: int
    appends: int  # scenario 1: single-event HTTP appends
    connections: int  # … sent over this many connections
    raw_connections: int  # … against raw INSERT commits from this many connections
    rate: int  # scenarios 4 and 6: appends a second, for
    seconds: float  # … this long
    batch: int  # scenario 2: commands through POST /v1/events:batch
    chunk: int  # … this many in one request
    backlog: int  # scenario 6: events the NATS publisher catches up on
    total: int  # scenarios 3 and 5: events in the log at the end
    subscribers: int  # scenario 7: SSE clients following the feed during appends


# Smaller than a production-sized run (1M events, a 200k batch, a 100k backlog) so that the
# full run stays near 10 minutes on two shared cores, where the batch endpoint takes ~1,000
# commands a second.
FULL = Sizes(
    apps=100,
    envs=5,
    appends=10_000,
    connections=64,
    raw_connections=16,
    rate=1_000,
    seconds=10,
    batch=50_000,
    chunk=5_000,
    backlog=50_000,
    total=150_000,
    subscribers=200,
)
QUICK = Sizes(
    apps=10,
    envs=3,
    appends=600,
    connections=16,
    raw_connections=4,
    rate=200,
    seconds=1.5,
    batch=3_000,
    chunk=1_000,
    backlog=2_000,
    total=10_000,
    subscribers=20,
)


@dataclass
class Bench:
    """The run in progress: the server under test, its database, and the flips used so far."""

    sizes: Sizes
    database_url: str
    nats_url: str
    server: LedgerProcess
    session: aiohttp.ClientSession
    workload: Workload
    flips: int = 0
    marks: dict[str, float] = field(default_factory=dict)  # RSS (MB) at named moments

    def take(self, count: int) -> int:
        """Reserve ``count`` new flips; return the index of the first."""
        start, self.flips = self.flips, self.flips + count
        return start

    @property
    def url(self) -> str:
        return self.server.url
