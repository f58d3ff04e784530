"""History filters by actor kind, channel and pipeline run; exports as NDJSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ledger.http.keys import VIEWS
from projections import HistoryQuery

from .conftest import ProdStory


async def history(reader: Any, **query: object) -> list[dict[str, Any]]:
    page = await reader.ok("/v1/history", limit=500, **query)
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_history_filters_by_actor_kind_channel_and_run(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    humans = await history(reader, actor_kind="human")
    assert [i["summary"].split()[:2] for i in humans] == [
        ["alice", "rolled"],
        ["alice", "turned"],
        ["alice", "created"],
    ]
    assert await history(reader, via="cli") == humans  # alice works through the CLI
    run = await history(reader, correlation_id="run-7")
    assert run and {(i["actor"], i["correlation_id"]) for i in run} == {("ci-bot", "run-7")}
    assert {i["kind"] for i in run} >= {"build", "config", "deploy", "migration", "rollout"}
    assert await history(reader, correlation_id="run-8") == []
    both = await history(reader, actor_kind="ci", via="cli")
    assert both == []


async def test_bad_history_filters_are_422(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    for name, value in (("actor_kind", "robot"), ("via", "fax"), ("correlation_id", "")):
        problem = await reader.problem(422, "/v1/history", **{name: value})
        assert name in problem["detail"]


async def test_an_ndjson_export_is_the_filtered_history_oldest_first(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    status, body = await reader.get("/v1/history/export", app="shop", env="prod")
    assert status == 200
    lines = [json.loads(line) for line in body.decode().splitlines()]
    newest_first = await history(reader, app="shop", env="prod")
    assert lines == list(reversed(newest_first))
    response = await reader.client.get(
        "/v1/history/export", params={"kind": "deploy", "format": "ndjson"}
    )
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    assert int(response.headers["Ledger-Export-Upto"]) >= reader.head
    deploys = (await response.read()).decode().splitlines()
    assert [json.loads(d)["kind"] for d in deploys] == ["deploy", "deploy", "deploy"]


async def test_a_csv_export_has_a_header_and_neutralised_formulas(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    await reader.caught_up()
    response = await reader.client.get(
        "/v1/history/export", params={"format": "csv", "app": "shop", "after": "0"}
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "ledger-history.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO((await response.read()).decode())))
    everything = await history(reader, app="shop")
    assert [int(r["position"]) for r in rows] == sorted(i["position"] for i in everything)
    rollback = next(r for r in rows if r["kind"] == "rollback")
    assert rollback["reason"] == "'=errors"  # a spreadsheet would run =errors as a formula
    assert json.loads(rollback["data"])["cause"] == "rollback"
    assert "hunter2-secret" not in str(rows) and "lic-1" not in str(rows)


async def test_exports_read_in_keyset_chunks_up_to_where_they_began(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    await reader.caught_up()
    queries = reader.client.app[VIEWS].queries
    upto = prod_story.pos["v4"]
    chunks = [
        [i.position for i in chunk]
        async for chunk in queries.export(HistoryQuery(app="shop"), upto, chunk=3)
    ]
    assert [len(c) for c in chunks[:-1]] == [3] * (len(chunks) - 1) and 0 < len(chunks[-1]) <= 3
    flat = [p for c in chunks for p in c]
    assert flat == sorted(flat) and flat[-1] == upto and flat[0] == prod_story.pos["app"]


async def test_bad_export_parameters_are_422(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    for query in ({"format": "xml"}, {"via": "fax"}, {"since": "soon"}, {"after": "-1"}):
        problem = await reader.problem(422, "/v1/history/export", **query)
        assert next(iter(query)) in problem["detail"]
