"""What the views answer agrees with the domain, and history pages are filtered and stable."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from ledger.domain import commands as c
from ledger.domain.model import Environment
from ledger.domain.names import environment_id
from ledger.domain.secrets import Fingerprints
from ledger.eventstore.application import LedgerStore
from ledger.wire.shapes import FlagView, HistoryItem, StateView, release_view
from projections import HistoryQuery, Views

ENVS = [("shop", "staging"), ("shop", "prod"), ("shop", "qa"), ("api", "prod")]


def domain_environment(store: LedgerStore, app: str, env: str) -> Environment:
    state = store.load(environment_id(app, env))
    assert isinstance(state, Environment)
    return state


def last_position(store: LedgerStore, stream_id: UUID) -> int:
    """The global position of a stream's newest event, read from the notification log."""
    log = store.recorder.select_notifications(start=1, limit=10_000)
    return max(n.id for n in log if n.originator_id == stream_id)


def expected_state(store: LedgerStore, app: str, env: str, fingerprints: Fingerprints) -> StateView:
    """The state a client must see, worked out from the domain's own stream."""
    domain = domain_environment(store, app, env)
    current = domain.current()
    return StateView(
        app=app,
        env=env,
        release=release_view(current) if current else None,
        config=fingerprints.redact(domain.config, domain.secret_keys),
        flags={
            n: FlagView(enabled=f.enabled, rollout_percent=f.rollout_percent)
            for n, f in domain.flags.items()
        },
        schema_version=domain.schema_version,
        position=last_position(store, domain.id),
        config_version=domain.config_version,
        updated_at=domain.updated_at,
    )


async def everything(views: Views) -> list[HistoryItem]:
    """The whole history, oldest first, read the way followers read it."""
    items: list[HistoryItem] = []
    while page := (
        await views.queries.history(HistoryQuery(after=len(items) and items[-1].position, limit=7))
    ).items:
        items += page
    return items


async def test_state_of_each_environment_is_the_domains(ledger, store, views) -> None:
    await ledger.story()
    await views.runner.catch_up()
    for app, env in ENVS:
        assert await views.queries.state(app, env) == (
            expected_state(store, app, env, views.fingerprints)
        )


async def test_releases_are_the_domains_newest_first(ledger, store, views) -> None:
    await ledger.story()
    await views.runner.catch_up()
    for app, env in ENVS:
        domain = domain_environment(store, app, env)
        expected = [release_view(r) for r in reversed(domain.releases)]
        assert await views.queries.releases(app, env) == expected
        for release in expected:
            assert await views.queries.release(app, env, release.version) == release
    statuses = [r.status for r in await views.queries.releases("shop", "prod") or []]
    assert statuses == [
        "succeeded",
        "superseded",
        "superseded",
        "superseded",
        "superseded",
        "superseded",
    ]


async def test_apps_list_their_environments_and_what_runs_there(ledger, store, views) -> None:
    await ledger.story()
    await views.runner.catch_up()
    apps = await views.queries.apps()
    assert [(a.name, a.description) for a in apps] == [("api", None), ("shop", "the web shop")]
    shop = await views.queries.app("shop")
    assert shop == apps[1]
    assert [e.env for e in shop.envs] == ["prod", "qa", "staging"]
    for summary in shop.envs:
        expected = expected_state(store, "shop", summary.env, views.fingerprints)
        assert (summary.release, summary.position) == (expected.release, expected.position)


async def test_what_does_not_exist_is_none(ledger, views) -> None:
    await ledger.do(c.CreateApp(app="shop"))
    await views.runner.catch_up()
    assert await views.queries.app("nope") is None
    assert await views.queries.state("shop", "prod") is None
    assert await views.queries.releases("shop", "prod") is None
    assert await views.queries.release("shop", "prod", 1) is None
    assert (await views.queries.app("shop")).envs == []  # type: ignore[union-attr]


async def test_history_holds_every_event_but_bookkeeping_newest_first(ledger, store, views) -> None:
    await ledger.story()
    await views.runner.catch_up()
    page = await views.queries.history(HistoryQuery(limit=500))
    log = store.recorder.select_notifications(start=1, limit=10_000)
    bookkeeping = (":IdempotencyRecorded", ":ArtifactIndexed")
    shown = [n.id for n in log if not n.topic.endswith(bookkeeping)]
    assert [item.position for item in page.items] == shown[::-1]
    assert len(shown) == len(log) - 4 and page.next is None  # a key's record, 3 artifacts
    rollback = next(item for item in page.items if item.kind == "rollback")
    assert rollback.summary == (
        "alice rolled back shop prod to v2 (as v6, forced past irreversible m1): Payment errors"
    )
    assert rollback.reason == "Payment errors"
    assert rollback.data["release"]["rollback_of"] == 2
    deploys = [item for item in page.items if item.kind == "deploy" and item.env == "prod"]
    canary = deploys[-1]
    assert (
        canary.summary.startswith("ci-bot deployed shop v2 (") and "— canary 1%" in canary.summary
    )


FILTERS = [
    (HistoryQuery(app="api"), lambda i: i.app == "api"),
    (HistoryQuery(app="shop", env="prod"), lambda i: (i.app, i.env) == ("shop", "prod")),
    (HistoryQuery(kind="rollout"), lambda i: i.kind == "rollout"),
    (HistoryQuery(actor="bob"), lambda i: i.actor == "bob"),
    (
        HistoryQuery(app="shop", kind="config", actor="ci-bot"),
        lambda i: (i.app, i.kind, i.actor) == ("shop", "config", "ci-bot"),
    ),
    (HistoryQuery(q="PAYMENT"), lambda i: "payment" in f"{i.summary} {i.reason}".lower()),
    (HistoryQuery(q="launch day"), lambda i: i.reason == "Launch day"),
    (HistoryQuery(q="1%"), lambda i: "1%" in i.summary),
    (HistoryQuery(q="db_p"), lambda i: "db_p" in i.summary.lower()),
    (HistoryQuery(actor_kind="human"), lambda i: i.actor_kind == "human"),
    (HistoryQuery(via="http", env="prod"), lambda i: (i.via, i.env) == ("http", "prod")),
]


@pytest.mark.parametrize(("query", "wanted"), FILTERS)
async def test_history_filters(ledger, views, query: HistoryQuery, wanted) -> None:
    await ledger.story()
    await views.runner.catch_up()
    expected = [item for item in reversed(await everything(views)) if wanted(item)]
    assert expected
    page = await views.queries.history(query)
    assert page.items == expected


async def test_history_between_two_instants_includes_since_and_excludes_until(
    ledger, views
) -> None:
    await ledger.story()
    await views.runner.catch_up()
    items = await everything(views)
    since, until = items[3].recorded_at, items[10].recorded_at
    page = await views.queries.history(HistoryQuery(since=since, until=until))
    assert page.items == [i for i in reversed(items) if since <= i.recorded_at < until]
    assert page.items[-1].recorded_at == since
    later = await views.queries.history(HistoryQuery(since=items[-1].recorded_at + timedelta(1)))
    assert later.items == []


async def test_after_lists_newer_items_oldest_first(ledger, views) -> None:
    await ledger.story()
    await views.runner.catch_up()
    items = await everything(views)
    page = await views.queries.history(HistoryQuery(after=items[4].position, limit=3))
    assert page.items == items[5:8] and page.next is None


async def test_pages_neither_skip_nor_repeat_while_events_are_appended(ledger, views) -> None:
    await ledger.story()
    await views.runner.catch_up()
    before = list(reversed(await everything(views)))
    page = await views.queries.history(HistoryQuery(limit=4))
    seen = list(page.items)
    flips = 0
    while page.next is not None:
        flips += 1
        await ledger.do(c.SetFlag(app="shop", env="prod", flag=f"f{flips}", enabled=True))
        await views.runner.catch_up()
        page = await views.queries.history(HistoryQuery(limit=4, cursor=page.next))
        seen += page.items
    assert seen == before
    assert flips == (len(before) - 1) // 4  # an append between every two pages


async def test_an_invalid_cursor_is_refused() -> None:
    with pytest.raises(ValueError, match="cursor"):
        HistoryQuery(cursor="not a cursor!")
    with pytest.raises(ValueError, match="cursor or after"):
        HistoryQuery(cursor="MTI", after=3)
