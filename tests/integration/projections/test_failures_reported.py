"""What an operator sees of an event the projections passed over: /readyz names it, the metric
counts it, `ledger projections failures` lists it and `ledger projections retry` projects it
again after a fix."""

from __future__ import annotations

import asyncio
from typing import Any

from click.testing import CliRunner, Result

from ledger.cli.main import cli as ledger_cli
from ledger.domain import commands as c
from ledger.http.keys import VIEWS
from ledger.service.writer import Writer
from ledger.settings import Settings
from ledger.sql.opening import open_database
from projections.view_store import ViewStore

from ..conftest import app_clients
from ..poison import POISON, refuse_poison

CI = c.Context(actor="ci-bot", actor_kind="ci")


def projections_cli(settings: Settings, *args: str) -> Result:
    env: dict[str, str | None] = {
        "LEDGER_DATA_DIR": str(settings.data_dir),
        "LEDGER_DATABASE_URL": settings.database_url,
    }
    return CliRunner().invoke(ledger_cli, ["projections", *args], env=env, prog_name="ledger")


async def on_views_database(settings: Settings, refuse: bool) -> None:
    database = await open_database(settings)
    try:
        await ViewStore(database).create_tables()
        if refuse:
            await refuse_poison(database)
        else:
            await database.execute(
                "DROP TRIGGER refuse_poison"
                + (" ON ledger_view_apps" if database.backend == "postgres" else "")
            )
    finally:
        await database.close()


def test_failures_are_listed_and_a_retry_after_the_fix_projects_them(
    settings: Settings, writer: Writer
) -> None:
    asyncio.run(on_views_database(settings, refuse=True))
    writer.execute(c.CreateApp(app="web"), CI)
    refused = writer.execute(c.CreateApp(app="bad", description=POISON), CI).position
    writer.execute(c.CreateApp(app="cli"), CI)
    rebuilt = projections_cli(settings, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"1 event(s) could not be projected, at position(s) {refused}" in rebuilt.stdout
    listed = projections_cli(settings, "failures")
    [line] = listed.stdout.splitlines()
    position, follower, event_id, _, error = line.split("\t")
    assert (int(position), follower) == (refused, "projections") and event_id != "-"
    assert "poisoned row" in error
    assert projections_cli(settings, "retry", "999").exit_code == 1
    asyncio.run(on_views_database(settings, refuse=False))
    retried = projections_cli(settings, "retry", str(refused))
    assert retried.exit_code == 0, retried.output
    assert f"projected now: {refused}" in retried.stdout
    cleared = projections_cli(settings, "failures")
    assert cleared.stdout == ""
    assert "no event was passed over" in cleared.stderr


async def test_readyz_names_the_failed_position_and_the_metric_counts_it(
    settings: Settings,
) -> None:
    async with app_clients() as start_client:
        client = await start_client(settings)
        await refuse_poison(client.app[VIEWS].database)
        await client.post("/v1/apps", json={"name": "web"})
        answer = await client.post("/v1/apps", json={"name": "bad", "description": POISON})
        refused = (await answer.json())["position"]
        await client.post("/v1/apps", json={"name": "cli"})
        runner = client.app[VIEWS].runner
        assert await runner.wait_for(refused + 1, timeout=5)
        ready = await client.get("/readyz")
        body: dict[str, Any] = await ready.json()
        assert ready.status == 503, body
        assert body["status"] == "failing" and body["failed"] == {"projections": [refused]}
        metrics = await (await client.get("/metrics")).text()
        assert 'ledger_projection_failures_total{follower="projections"} 1.0' in metrics
