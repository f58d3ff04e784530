"""Scenario 6, throughput: the ledger's NATS publisher catching up on a backlog (its position
read from /readyz over time), against plain nats-py pipelined ``js.publish_async`` of the very
messages it published (read back from stream LEDGER) to a stream of their own."""

from __future__ import annotations

import asyncio
import contextlib
import time

import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from ledger.bench.plan import Bench
from ledger.bench.report import Row, ratio_row, say
from ledger.bench.timing import Stopwatch
from ledger.jetstream.publisher import DUPLICATE_WINDOW_SECONDS, STREAM
from ledger.service.messages import EVENTS_SUBJECT

SCENARIO = "6 NATS publishing"
RAW_STREAM = "BENCH_RAW"
RAW_PREFIX = "bench"
POLL_SECONDS = 0.1
CATCH_UP_TIMEOUT = 600.0
RAW_SAMPLE = 50_000  # messages published again: enough for a steady rate, quick to read back

Message = tuple[str, bytes, dict[str, str]]


async def catch_up_rate(bench: Bench, started: float) -> tuple[float, int]:
    """Follow the publisher's position until it reaches the head; (events/s, events).

    The rate is taken between the first position seen and the head; when the publisher was
    done before the first look, from ``started`` (when the server was started) instead."""
    first: tuple[float, int] | None = None
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    last_say = time.monotonic()
    while True:
        ready = await bench.server.readyz(bench.session)
        now, nats_state = time.monotonic(), ready["nats"]
        position, head = nats_state["position"], ready["head"]
        if first is None:
            first = (now, position) if position < head else (started, 0)
        if position >= head:
            seconds = max(now - first[0], 1e-9)
            return (position - first[1]) / seconds, position - first[1]
        if now > deadline:
            raise TimeoutError(f"the publisher did not catch up: {nats_state}")
        if now - last_say > 2:
            last_say = now
            say(f"{SCENARIO}: publisher at {position:,} of {head:,}")
        await asyncio.sleep(POLL_SECONDS)


async def stream_sequence(nats_url: str) -> int:
    """The last sequence number of stream LEDGER (0 when it does not exist yet)."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        return (await nc.jetstream().stream_info(STREAM)).state.last_seq
    except nats.js.errors.NotFoundError:
        return 0
    finally:
        await nc.close()


async def run(bench: Bench, started: float, after_sequence: int) -> list[Row]:
    """Measure the publisher as it catches up (right after the server started)."""
    say(f"{SCENARIO}: the publisher catches up on the backlog")
    ledger, events = await catch_up_rate(bench, started)
    say(f"{SCENARIO}: publisher {ledger:,.0f} events/s over {events:,} events; now raw")
    raw = await raw_publish_rate(bench.nats_url, after_sequence)
    say(f"{SCENARIO}: raw {raw:,.0f} events/s")
    figure = f"publisher catching up on {events:,} events (event + feed message each)"
    reference_of = f"nats-py publish_async, same messages (≤{RAW_SAMPLE:,})"
    return [ratio_row(SCENARIO, figure, ledger, raw, reference_of, at_least=0.5)]


async def raw_publish_rate(nats_url: str, after_sequence: int) -> float:
    """Publish what stream LEDGER got from this run again, pipelined, to a stream of its own;
    events/s."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        messages = await read_stream(js, after_sequence)
        events = sum(1 for subject, _, _ in messages if subject.startswith(EVENTS_SUBJECT))
        await fresh_raw_stream(js)
        try:
            watch = Stopwatch()
            acks = [
                await js.publish_async(f"{RAW_PREFIX}.{subject}", body, headers=headers)
                for subject, body, headers in messages
            ]
            await asyncio.gather(*acks)
            return watch.rate(events)
        finally:
            await js.delete_stream(RAW_STREAM)
    finally:
        await nc.close()


async def read_stream(js: JetStreamContext, after_sequence: int) -> list[Message]:
    """The messages of stream LEDGER after a sequence number (at most RAW_SAMPLE of them),
    with subjects and headers."""
    total = (await js.stream_info(STREAM)).state.last_seq - after_sequence
    total = min(total, RAW_SAMPLE)
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=after_sequence + 1,
    )
    sub = await js.pull_subscribe(">", stream=STREAM, config=config)
    messages: list[Message] = []
    try:
        while len(messages) < total:
            for msg in await sub.fetch(batch=min(5000, total - len(messages)), timeout=10):
                messages.append((msg.subject, msg.data, dict(msg.headers or {})))
    finally:
        await sub.unsubscribe()
    say(f"{SCENARIO}: read {len(messages):,} messages back from stream {STREAM}")
    return messages


async def fresh_raw_stream(js: JetStreamContext) -> None:
    """An empty stream BENCH_RAW (subjects bench.>) configured like stream LEDGER."""
    config = StreamConfig(
        name=RAW_STREAM,
        subjects=[f"{RAW_PREFIX}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_stream(RAW_STREAM)
    await js.add_stream(config)
