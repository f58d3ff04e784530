"""Smoke tests of the services scripts/test provides: real PostgreSQL and real NATS JetStream."""

from __future__ import annotations

import uuid

import asyncpg
import nats
import pytest


@pytest.mark.postgres
async def test_postgres_database_answers(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("select 1") == 1
    finally:
        await conn.close()


@pytest.mark.nats
async def test_jetstream_acknowledges_a_publish(nats_url: str) -> None:
    nc = await nats.connect(nats_url, connect_timeout=5, allow_reconnect=False)
    try:
        js = nc.jetstream()
        token = uuid.uuid4().hex
        stream, subject = f"SMOKE_{token}", f"smoke.{token}"
        await js.add_stream(name=stream, subjects=[subject])
        try:
            ack = await js.publish(subject, b"hello")
            assert (ack.stream, ack.seq) == (stream, 1)
        finally:
            await js.delete_stream(stream)
    finally:
        await nc.close()
