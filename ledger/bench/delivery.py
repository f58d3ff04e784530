"""Scenario 6, latency: from an append to a JetStream subscriber at a fixed append rate, taken
as the subscriber's receive time minus the event's recorded_at (its CloudEvent ``time``);
against plain nats-py: a message published at the same rate, stamped when it was sent."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import msgspec
import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from ledger.bench import latency
from ledger.bench.plan import Bench
from ledger.bench.publisher import RAW_PREFIX, RAW_STREAM, SCENARIO, fresh_raw_stream
from ledger.bench.report import Row, say
from ledger.bench.timing import latency_rows, open_loop
from ledger.jetstream.publisher import STREAM
from ledger.service.messages import EVENTS_SUBJECT

RECEIVE_TIMEOUT = 60.0


class Stamped(msgspec.Struct):
    time: datetime


class Receiver:
    """A JetStream subscriber that keeps, for each message, now minus its ``time``."""

    def __init__(self, expected: int) -> None:
        self.latencies: list[float] = []
        self.expected = expected
        self.size = 0
        self._all = asyncio.Event()
        self._decoder = msgspec.json.Decoder(Stamped)

    async def receive(self, msg: Msg) -> None:
        received = time.time()
        sent = self._decoder.decode(msg.data).time.timestamp()
        self.latencies.append(received - sent)
        self.size = len(msg.data)
        if len(self.latencies) >= self.expected:
            self._all.set()

    async def wait(self) -> list[float]:
        try:
            async with asyncio.timeout(RECEIVE_TIMEOUT):
                await self._all.wait()
        except TimeoutError:
            raise TimeoutError(
                f"{len(self.latencies)} of {self.expected} messages arrived"
            ) from None
        return self.latencies


async def run(bench: Bench) -> list[Row]:
    sizes = bench.sizes
    count = int(sizes.rate * sizes.seconds)
    say(f"{SCENARIO}: commit→subscriber latency, {count:,} appends at {sizes.rate:,}/s")
    ledger, size = await ledger_delivery(bench, sizes.rate, count)
    await bench.server.settle(bench.session)  # the raw reference gets the machine to itself
    say(f"{SCENARIO}: now raw publish→subscriber at the same rate")
    raw = await raw_delivery(bench.nats_url, sizes.rate, count, size)
    rows = latency_rows(
        SCENARIO,
        lambda p: f"commit→subscriber p{p} at {sizes.rate:,} appends/s",
        ledger,
        raw,
        reference_of="js.publish→subscriber",
        p99_target=50.0,
    )
    say(f"{SCENARIO}: delivery p50 {rows[0].value:.1f} ms, p99 {rows[1].value:.1f} ms")
    return rows


async def ledger_delivery(bench: Bench, rate: int, count: int) -> tuple[list[float], int]:
    """Latencies (s) from recorded_at to receipt of ``count`` flips appended at ``rate``/s,
    and the size of a message."""
    nc = await nats.connect(bench.nats_url, connect_timeout=5)
    try:
        receiver = Receiver(count)
        await nc.jetstream().subscribe(
            f"{EVENTS_SUBJECT}.>",
            stream=STREAM,
            cb=receiver.receive,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        await latency.ledger_latencies(bench, rate, count)
        return await receiver.wait(), receiver.size
    finally:
        await nc.close()


async def raw_delivery(nats_url: str, rate: int, count: int, size: int) -> list[float]:
    """Latencies (s) from publish to receipt of ``count`` messages of ``size`` bytes."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        await fresh_raw_stream(js)
        receiver = Receiver(count)
        subject = f"{RAW_PREFIX}.delivery"
        await js.subscribe(subject, cb=receiver.receive, ordered_consumer=True)

        async def send(i: int) -> None:
            stamp = msgspec.json.encode({"time": datetime.now(UTC), "i": i})
            body = stamp[:-1] + b', "pad": "' + b"x" * max(0, size - len(stamp) - 11) + b'"}'
            await js.publish(subject, body, headers={"Nats-Msg-Id": f"raw-{i}"})

        await open_loop(rate, count, send, f"{SCENARIO} (raw)")
        latencies = await receiver.wait()
        await js.delete_stream(RAW_STREAM)
        return latencies
    finally:
        await nc.close()
