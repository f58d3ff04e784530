"""The runner applies every event to the views exactly once: across waits, restarts, crashes,
rebuilds and a second runner on the same database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from ledger.domain import commands as c
from ledger.read_side import open_views
from ledger.sql.database import Connection, Database
from ledger.sql.opening import open_database
from projections import ProjectionRunner
from projections.view_store import ViewStore


def follow(views, writer) -> None:
    """Wire the runner the way the composition root does: woken after each commit."""
    loop = asyncio.get_running_loop()
    writer.listeners.append(lambda _head: loop.call_soon_threadsafe(views.runner.wake))
    views.runner.start()


async def rebuilt(views, dump_of) -> dict[str, list[Any]]:
    await views.runner.rebuild()
    return await dump_of(views.database)


async def test_a_read_with_min_position_waits_until_the_views_have_it(ledger, writer, views):
    follow(views, writer)
    await ledger.do(c.CreateApp(app="shop"))
    result = await ledger.do(c.ChangeConfig(app="shop", env="prod", set={"A": "1"}))
    assert await views.wait_for(result.position, timeout=5)
    state = await views.queries.state("shop", "prod")
    assert state is not None and state.position == result.position


async def test_waiting_for_a_position_nobody_wrote_times_out(ledger, writer, views) -> None:
    follow(views, writer)
    result = await ledger.do(c.CreateApp(app="shop"))
    assert not await views.wait_for(result.position + 10, timeout=0.2)


async def test_a_process_without_a_runner_waits_for_the_stored_position(
    settings, store, ledger, writer, views
) -> None:
    follow(views, writer)
    reader = await open_views(settings, store)
    try:
        result = await ledger.do(c.CreateApp(app="shop"))
        assert await reader.wait_for(result.position, timeout=5)
        assert await reader.queries.app("shop") is not None
    finally:
        await reader.close()


async def test_without_a_wake_up_the_runner_polls(ledger, views) -> None:
    views.runner.poll_seconds = 0.1
    views.runner.start()
    result = await ledger.do(c.CreateApp(app="shop"))
    for _ in range(50):
        if views.runner.position >= result.position:
            break
        await asyncio.sleep(0.05)
    assert views.runner.position == result.position


async def test_a_new_runner_resumes_where_the_last_one_stopped(
    settings, store, ledger, writer, views, dump_of
) -> None:
    follow(views, writer)
    await ledger.story_begins()
    assert await views.wait_for(store.head(), timeout=5)
    await views.runner.stop()
    stopped_at = views.runner.position
    await ledger.story_ends()
    assert store.head() > stopped_at
    restarted = await open_views(settings, store)
    try:
        assert restarted.runner.position == stopped_at
        restarted.runner.start()
        assert await restarted.wait_for(store.head(), timeout=5)
        resumed = await dump_of(restarted.database)
    finally:
        await restarted.close()
    assert resumed == await rebuilt(views, dump_of)


async def test_rebuild_gives_the_same_views_and_reports_progress(
    ledger, store, views, dump_of
) -> None:
    await ledger.story()
    await views.runner.catch_up()
    before = await dump_of(views.database)
    views.runner.batch_size = 5
    calls: list[tuple[int, int]] = []
    position = await views.runner.rebuild(lambda done, total: calls.append((done, total)))
    assert await dump_of(views.database) == before
    assert position == store.head() and calls[-1] == (position, position)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(calls) >= 4


class CrashBeforeCommit:
    """A database that, once armed, goes away in its next transaction just before the commit."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.backend = database.backend
        self.armed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.database, name)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.database.transaction() as conn:
            yield conn
            if self.armed:
                self.armed = False
                raise ConnectionError("crash before commit")


async def test_a_batch_that_fails_changes_nothing_and_is_applied_once_on_retry(
    ledger, store, views, dump_of
) -> None:
    crashing = CrashBeforeCommit(views.database)
    runner = ProjectionRunner(
        store,
        ViewStore(crashing),  # type: ignore[arg-type]
        batch_size=3,
        fingerprints=views.fingerprints,
    )
    await runner.load()
    await ledger.story_begins()
    await runner.catch_up()  # the runner now keeps the environments' states in memory
    before = await dump_of(views.database)
    await ledger.story_ends()
    crashing.armed = True
    with pytest.raises(ConnectionError, match="crash before commit"):
        await runner.run_once()
    assert await dump_of(views.database) == before
    assert await runner.catch_up() == store.head()
    assert await dump_of(views.database) == await rebuilt(views, dump_of)


async def test_two_runners_on_one_database_apply_each_event_once(
    settings, store, ledger, views, dump_of
) -> None:
    other = await open_database(settings)
    try:
        second = ProjectionRunner(
            store, ViewStore(other), batch_size=2, fingerprints=views.fingerprints
        )
        await second.load()
        views.runner.batch_size = 3
        await ledger.story_begins()
        await asyncio.gather(views.runner.catch_up(), second.catch_up())
        await ledger.story_ends()
        await asyncio.gather(second.catch_up(), views.runner.catch_up())
        assert views.runner.position == second.position == store.head()
    finally:
        await other.close()
    assert await dump_of(views.database) == await rebuilt(views, dump_of)
