"""What the scenarios write: flag flips spread over many apps and environments, sent over HTTP,
and the comparable table the raw references write into."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import aiohttp
import asyncpg
import msgspec

from ledger.bench.report import Ticker

ENVS = ("dev", "test", "staging", "qa", "prod", "perf", "demo", "canary")
FLAGS = 20
EVENTS_TABLE = "ledger_events"
RAW_TABLE = "bench_raw_events"
RAW_COLUMNS = ("originator_id", "originator_version", "topic", "state")

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]


class Flip(msgspec.Struct, frozen=True):
    app: str
    env: str
    flag: str
    enabled: bool


class Workload:
    """Deterministic flag flips over ``apps`` x ``envs`` environments, round robin."""

    def __init__(self, apps: int, envs: int, prefix: str = "app") -> None:
        self.apps = [f"{prefix}{i:03d}" for i in range(apps)]
        self.envs = ENVS[:envs]
        self.environments = [(a, e) for a in self.apps for e in self.envs]

    def flip(self, i: int) -> Flip:
        app, env = self.environments[i % len(self.environments)]
        turn = i // len(self.environments)
        return Flip(app, env, f"flag-{turn % FLAGS}", (turn // FLAGS) % 2 == 0)

    def create_lines(self) -> list[bytes]:
        return [msgspec.json.encode({"op": "create_app", "app": a}) for a in self.apps]

    def flip_lines(self, start: int, count: int) -> list[bytes]:
        """NDJSON items (set_flag) of flips ``start`` … ``start + count - 1``."""
        lines = []
        for i in range(start, start + count):
            f = self.flip(i)
            item = {"op": "set_flag", "app": f.app, "env": f.env, "flag": f.flag}
            lines.append(msgspec.json.encode(item | {"enabled": f.enabled}))
        return lines


async def post_batch(session: aiohttp.ClientSession, url: str, lines: Sequence[bytes]) -> int:
    """POST the lines as NDJSON to /v1/events:batch; returns how many were accepted."""
    body = b"\n".join(lines)
    headers = {"Content-Type": "application/x-ndjson"}
    async with session.post(url + "/v1/events:batch", data=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"batch answered {response.status}: {await response.text()}")
        answer: dict[str, Any] = await response.json()
    if answer["refused"]:
        problems = [r["problem"] for r in answer["results"] if "problem" in r][:3]
        raise RuntimeError(f"the ledger refused {answer['refused']} items, e.g. {problems}")
    accepted: int = answer["accepted"]
    return accepted


async def send_flips(
    session: aiohttp.ClientSession,
    url: str,
    workload: Workload,
    start: int,
    count: int,
    *,
    chunk: int,
    in_flight: int = 2,
    label: str = "batch",
) -> None:
    """Send flips in NDJSON chunks, ``in_flight`` requests at a time, saying how far it got."""
    ticker = Ticker(label, count)
    chunks = iter(range(start, start + count, chunk))
    done = 0

    async def worker() -> None:
        nonlocal done
        for first in chunks:
            size = min(chunk, start + count - first)
            done += await post_batch(session, url, workload.flip_lines(first, size))
            ticker(done)

    await asyncio.gather(*(worker() for _ in range(in_flight)))


async def create_apps(session: aiohttp.ClientSession, url: str, workload: Workload) -> None:
    await post_batch(session, url, workload.create_lines())


def split(total: int, parts: int) -> Iterator[range]:
    """``range(total)`` in ``parts`` interleaved slices."""
    return (range(p, total, parts) for p in range(parts))


async def sample_state(conn: Conn, topic_like: str = "%FlagChanged") -> bytes:
    """The stored state of one ledger event (a flag flip): the payload raw references write."""
    state = await conn.fetchval(
        f"SELECT state FROM {EVENTS_TABLE} WHERE topic LIKE $1 ORDER BY notification_id DESC "
        "LIMIT 1",
        topic_like,
    )
    if state is None:
        raise RuntimeError("no flag flip in the log to take a payload from")
    return bytes(state)


async def create_raw_table(conn: Conn) -> None:
    """A fresh table like the event store's: same columns, primary key and position index."""
    await conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
    await conn.execute(
        f"""CREATE TABLE {RAW_TABLE} (
            originator_id uuid NOT NULL,
            originator_version bigint NOT NULL,
            topic text,
            state bytea,
            notification_id bigserial,
            PRIMARY KEY (originator_id, originator_version))"""
    )
    await conn.execute(f"CREATE UNIQUE INDEX {RAW_TABLE}_position ON {RAW_TABLE} (notification_id)")


def raw_rows(count: int, state: bytes, streams: int) -> list[tuple[uuid.UUID, int, str, bytes]]:
    """``count`` rows over ``streams`` streams, each with the sample payload."""
    ids = [uuid.uuid4() for _ in range(streams)]
    topic = "ledger.domain.events:FlagChanged"
    return [(ids[i % streams], i // streams + 1, topic, state) for i in range(count)]


RAW_INSERT = f"INSERT INTO {RAW_TABLE} ({', '.join(RAW_COLUMNS)}) VALUES ($1, $2, $3, $4)"
