"""One bad event never stops the projections: an event the views cannot take is recorded as a
failure and passed over, the others are projected exactly once; old events with text that
PostgreSQL refuses (NUL) project like any other."""

from __future__ import annotations

from ledger.domain import commands as c
from projections import Views
from projections.failures import failures
from projections.queries import HistoryQuery

from ..old_events import NUL_VERSION, STORED_AS, storing_old_text
from ..poison import refuse_poison


async def poisoned_story(ledger) -> int:
    """Three apps around one the views refuse; returns the refused event's position."""
    await ledger.do(c.CreateApp(app="web"))
    refused = await ledger.do(c.CreateApp(app="bad", description="poison"))
    await ledger.do(c.CreateApp(app="cli"))
    await ledger.do(c.ChangeConfig(app="web", env="prod", set={"A": "1"}))
    return refused.position


async def test_an_old_event_with_a_nul_projects_and_its_state_shows_it(
    ledger, store, views: Views
) -> None:
    await ledger.do(c.CreateApp(app="shop"))
    migration = c.ApplyMigration(
        app="shop", env="prod", migration_id="m1", schema_version="v2", reversible=True
    )
    with storing_old_text(store, schema_version=NUL_VERSION):
        await ledger.do(migration)
    await ledger.do(c.ChangeConfig(app="shop", env="prod", set={"A": "1"}))
    assert await views.runner.catch_up() == store.head()
    state = await views.queries.state("shop", "prod")
    assert state is not None and state.schema_version == STORED_AS
    assert state.config == {"A": "1"}
    page = await views.queries.history(HistoryQuery(app="shop", kind="migration"))
    assert [item.data.get("schema_version") for item in page.items] == [STORED_AS]
    assert await failures(views.database) == []


async def test_an_event_the_views_refuse_is_recorded_and_the_others_are_projected(
    ledger, store, views: Views
) -> None:
    await refuse_poison(views.database)
    refused = await poisoned_story(ledger)
    assert await views.runner.catch_up() == store.head()
    assert {a.name for a in await views.queries.apps()} == {"web", "cli"}
    state = await views.queries.state("web", "prod")
    assert state is not None and state.config == {"A": "1"}
    [failure] = await failures(views.database)
    assert (failure.follower, failure.position) == ("projections", refused)
    assert "poisoned row" in failure.error and failure.event_id
    assert views.runner.failed == 1


async def test_one_by_one_after_a_failed_batch_applies_each_event_once(
    ledger, store, views: Views, dump_of
) -> None:
    await refuse_poison(views.database)
    await poisoned_story(ledger)
    await ledger.story()
    views.runner.batch_size = 7
    await views.runner.catch_up()
    in_batches = await dump_of(views.database)
    views.runner.batch_size = 1
    await views.runner.rebuild()
    assert await dump_of(views.database) == in_batches
    assert len(await failures(views.database)) == 1


async def test_a_rebuild_records_what_it_cannot_project_and_goes_on(
    ledger, store, views: Views
) -> None:
    refused = await poisoned_story(ledger)
    await views.runner.catch_up()
    await refuse_poison(views.database)
    assert await views.runner.rebuild() == store.head()
    assert [f.position for f in await failures(views.database)] == [refused]
    assert {a.name for a in await views.queries.apps()} == {"web", "cli"}
