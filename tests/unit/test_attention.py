"""What GET /v1/attention makes of what it reads: which drift needs someone and how it is told
in one line, which followers are behind, what a failing webhook may show of its error (never
where it sends), what ?app= and ?env= narrow, and the counts a badge shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.domain.events import OldRelease
from ledger.service.attention import drift_needs, drift_summary, follower_needs
from ledger.webhooks.attention import WITHHELD, shown_error, webhook_needs
from ledger.webhooks.models import WebhookFilter
from ledger.webhooks.registry import Webhook
from ledger.wire.attention import AttentionFilter, DriftNeed, attention
from ledger.wire.runtime import DriftItem, DriftView, RuntimeView

NOW = datetime(2025, 3, 4, 14, 3, tzinfo=UTC)


def runtime(status: str, drift: DriftView | None = None, version: int | None = 3) -> RuntimeView:
    return RuntimeView(
        status=status,  # type: ignore[arg-type]
        observed_at=NOW,
        expected_artifact="sha256:" + "a" * 64,
        instances=[],
        drift=drift,
        expected_version=version,
    )


def drift(unrecorded: int = 0, other: int = 0, old: tuple[int, ...] = ()) -> DriftView:
    return DriftView(
        since=NOW,
        unrecorded_artifacts=[f"sha256:{n:064}" for n in range(unrecorded)],
        old_releases=[OldRelease(version=v, artifact_digest=f"sha256:{v:064}") for v in old],
        other_artifacts=[f"sha256:{n + 50:064}" for n in range(other)],
    )


@pytest.mark.parametrize(
    ("view", "line"),
    [
        (runtime("not_running", drift()), "nothing runs (v3 expected)"),
        (runtime("not_running", drift(), version=None), "nothing runs (none released)"),
        (runtime("drifted", drift(unrecorded=1)), "1 unrecorded artifact"),
        (
            runtime("drifted", drift(unrecorded=2, other=1, old=(1,))),
            "2 unrecorded artifacts; 1 artifact never released here; v1 still runs",
        ),
        (runtime("drifted", None), "runs something else (v3 expected)"),
    ],
)
def test_drift_is_told_in_one_line(view: RuntimeView, line: str) -> None:
    assert drift_summary(view) == line


def test_only_drifted_and_not_running_environments_need_someone() -> None:
    items = [
        DriftItem(app="shop", env="prod", runtime=runtime("drifted", drift(unrecorded=1))),
        DriftItem(app="shop", env="qa", runtime=runtime("unknown")),
        DriftItem(app="cart", env="prod", runtime=runtime("not_running", drift())),
    ]
    needs = drift_needs(items)
    assert [(n.app, n.env, n.status) for n in needs] == [
        ("shop", "prod", "drifted"),
        ("cart", "prod", "not_running"),
    ]
    assert needs[0].since == NOW and needs[0].unrecorded_artifacts == [f"sha256:{0:064}"]
    assert needs[0].expected_version == 3


def test_followers_behind_the_bound_and_those_that_passed_events_over_are_listed() -> None:
    owned = {"projections": 990, "nats-publisher": 100, "webhook wh_1": 1000}
    passed = {"projections": [7, 9], "webhook wh_2": [12]}
    needs = follower_needs(owned, head=1000, bound=500, passed_over=passed)
    assert [(n.name, n.lag, n.position, n.passed_over) for n in needs] == [
        ("nats-publisher", 900, 100, []),
        ("projections", 10, 990, [7, 9]),
        ("webhook wh_2", None, None, [12]),  # not delivered from this process
    ]


def test_a_bound_of_zero_lists_only_followers_that_passed_events_over() -> None:
    assert follower_needs({"projections": 0}, head=10**6, bound=0, passed_over={}) == []


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (None, None),
        ("HTTP 503", "HTTP 503"),
        ("no answer within 5s", "no answer within 5s"),
        (
            "ClientConnectorError: Cannot connect to host hooks.example.com:443 ssl:default",
            "ClientConnectorError",
        ),
        ("ServerDisconnectedError: Server disconnected", "ServerDisconnectedError"),
        ("https://hooks.example.com/T0/B0/secret-token refused", WITHHELD),
        ("HTTP 503 from hooks.example.com", WITHHELD),
    ],
)
def test_a_webhook_error_never_names_where_it_sends(error: str | None, shown: str | None) -> None:
    assert shown_error(error) == shown


def hook(hook_id: str, app: str | None = None, **state: object) -> Webhook:
    return Webhook(
        id=hook_id,
        url="https://hooks.example.com/services/T0/B0/secret-token",
        format="slack",
        filter=WebhookFilter(app=app),
        position=40,
        created_at=NOW,
        created_by="alice",
        secret="s" * 32,
        **state,  # type: ignore[arg-type]
    )


def test_failing_and_paused_webhooks_are_listed_without_url_or_secret() -> None:
    hooks = [
        hook("wh_ok"),
        hook("wh_failing", failing_since=NOW, last_error="HTTP 500"),
        hook("wh_paused", app="cart", failing_since=NOW, paused_at=NOW, last_error="HTTP 502"),
    ]
    needs = webhook_needs(hooks, head=100, where=AttentionFilter())
    assert [(n.id, n.state, n.lag, n.last_error) for n in needs] == [
        ("wh_failing", "failing", 60, "HTTP 500"),
        ("wh_paused", "paused", 60, "HTTP 502"),
    ]
    assert not {"url", "secret"} & set(type(needs[0]).__struct_fields__)
    narrowed = webhook_needs(hooks, head=100, where=AttentionFilter(app="shop"))
    assert [n.id for n in narrowed] == ["wh_failing"]  # wh_paused carries cart's changes alone


def test_a_filter_includes_what_names_no_app_or_env_and_what_matches() -> None:
    shop_prod = AttentionFilter(app="shop", env="prod")
    assert shop_prod.includes("shop", "prod") and shop_prod.includes(None, None)
    assert not shop_prod.includes("cart", "prod") and not shop_prod.includes("shop", "qa")
    assert AttentionFilter().includes("cart", "qa")


def test_the_counts_have_every_pending_request_not_only_those_listed() -> None:
    need = DriftNeed(
        app="shop", env="prod", status="drifted", summary="1 unrecorded artifact", since=None,
        observed_at=None, expected_version=1, expected_artifact=None,
    )  # fmt: skip
    answer = attention(7, [need], ([], 120), [], [], [], [])
    counts = answer.counts
    assert (counts.drift, counts.requests, counts.webhooks, counts.total) == (1, 120, 0, 121)
    assert answer.position == 7 and answer.requests == []
