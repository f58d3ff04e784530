"""The route table: one list drives both the router and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from msgspec import Struct

from ledger.domain import commands as c

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Route(Struct, frozen=True, kw_only=True):
    method: str
    path: str
    summary: str
    handler: Any  # Handler; Any because msgspec cannot describe callables
    body: Any = None  # the command (or body) type
    response: Any = None  # the response type
    status: int = 200
    also: tuple[int, ...] = ()  # further success statuses that answer with the same schema
    content_type: str = "application/json"
    renames: dict[str, str] = {}
    query: tuple[str, ...] = ()


def all_routes() -> list[Route]:
    """Every route of the API, writes then reads."""
    return [
        *_write_routes(),
        _batch_route(),
        _ingest_route(),
        *_read_routes(),
        *_insight_routes(),
        *_audit_routes(),
        *_visibility_routes(),
    ]


def _write_routes() -> list[Route]:
    """The write routes: each decodes one command and answers 201 with the WriteResult."""
    from ledger.http.writes import write
    from ledger.schemas import WriteResult

    def r(method: str, path: str, cls: type[c.AnyCommand], summary: str, **kw: Any) -> Route:
        renames = kw.pop("renames", {})
        return Route(
            method=method,
            path=path,
            summary=summary,
            body=cls,
            response=WriteResult,
            status=201,
            handler=write(cls, renames),
            renames=renames,
            **kw,
        )

    env = "/v1/apps/{app}/envs/{env}"
    return [
        r("POST", "/v1/apps", c.CreateApp, "Create an app", renames={"name": "app"}),
        r("POST", "/v1/apps/{app}/builds", c.RecordBuild, "Record a build"),
        r("POST", f"{env}/config", c.ChangeConfig, "Change config (a new release)"),
        r("PUT", f"{env}/flags/{{flag}}", c.SetFlag, "Flip a feature flag (no release)"),
        r("POST", f"{env}/deploys", c.Deploy, "Deploy a build (a new release)"),
        r("POST", f"{env}/releases/{{version}}/rollout", c.ProgressRollout, "Progress a rollout"),
        r("POST", f"{env}/migrations", c.ApplyMigration, "Record a schema migration"),
        r("POST", f"{env}/rollback", c.Rollback, "Roll back (a new release)"),
        r("POST", f"{env}/promote", c.Promote, "Promote the build running in another env"),
    ]


def _batch_route() -> Route:
    from ledger.http.batch import BatchItem, BatchResult, batch

    return Route(
        method="POST",
        path="/v1/events:batch",
        summary="Many commands in one request (JSON array or NDJSON), answered per item",
        handler=batch,
        body=list[BatchItem],
        response=BatchResult,
    )


def _read_routes() -> list[Route]:
    from ledger.cloudevents import CloudEvent
    from ledger.http import reads
    from ledger.schemas import AppList, AppView, HistoryPage, ReleaseList, ReleaseView, StateView

    wait = ("min_position",)
    env = "/v1/apps/{app}/envs/{env}"
    history_query = (
        "app",
        "env",
        "kind",
        "actor",
        "actor_kind",
        "via",
        "correlation_id",
        "since",
        "until",
        "q",
        "limit",
        "cursor",
        "after",
        "min_position",
    )
    return [
        Route(
            method="GET",
            path="/v1/apps",
            summary="List apps",
            handler=reads.list_apps,
            response=AppList,
            query=wait,
        ),
        Route(
            method="GET",
            path="/v1/apps/{app}",
            summary="An app and its environments",
            handler=reads.get_app,
            response=AppView,
            query=wait,
        ),
        Route(
            method="GET",
            path=env,
            summary="State of an environment: now, or as it was ?at= a time, ?release=, ?position=",
            handler=reads.get_state,
            response=StateView,
            query=("at", "release", "position", *wait),
        ),
        Route(
            method="GET",
            path=f"{env}/releases",
            summary="Releases, newest first",
            handler=reads.list_releases,
            response=ReleaseList,
            query=wait,
        ),
        Route(
            method="GET",
            path=f"{env}/releases/{{version}}",
            summary="One release",
            handler=reads.get_release,
            response=ReleaseView,
            query=wait,
        ),
        Route(
            method="GET",
            path="/v1/history",
            summary="Change history, newest first",
            handler=reads.history,
            response=HistoryPage,
            query=history_query,
        ),
        Route(
            method="GET",
            path="/v1/events",
            summary="The raw log as CloudEvents (Ledger-Next-After: the next `after`)",
            handler=reads.events,
            response=list[CloudEvent],
            query=("after", "limit"),
            content_type="application/cloudevents-batch+json",
        ),
    ]


def _ingest_route() -> Route:
    from ledger.http.ingest import ingest_cdevent
    from ledger.ingest.schema import CDEvent
    from ledger.ingest.service import IngestResult

    return Route(
        method="POST",
        path="/v1/cdevents",
        summary="Ingest a CDEvent: a CloudEvent in structured or binary mode, or the CDEvent alone",
        handler=ingest_cdevent,
        body=CDEvent,
        response=IngestResult,
        status=201,
        also=(202,),  # the event asks nothing of the ledger: nothing is recorded
    )


def _audit_routes() -> list[Route]:
    """Tamper evidence: signed checkpoints, proofs, and the verification report."""
    from ledger.audit.messages import Checkpoint, ConsistencyProof, InclusionProof, VerifyReport
    from ledger.http import audit

    def r(path: str, handler: Handler, response: Any, summary: str, **kw: Any) -> Route:
        return Route(
            method="GET", path=path, summary=summary, handler=handler, response=response, **kw
        )

    checkpoints = "/v1/checkpoints"
    return [
        r(f"{checkpoints}/latest", audit.latest_checkpoint, Checkpoint, "The latest checkpoint"),
        r(f"{checkpoints}/{{tree_size}}", audit.checkpoint, Checkpoint, "A checkpoint"),
        r(
            "/v1/events/{event_id}/proof",
            audit.event_proof,
            InclusionProof,
            "An event's inclusion proof in a checkpoint (default: the latest)",
            query=("tree_size",),
        ),
        r(
            f"{checkpoints}/{{first}}/consistency/{{second}}",
            audit.consistency,
            ConsistencyProof,
            "Proof that checkpoint `first` is a prefix of checkpoint `second`",
        ),
        r(
            "/v1/verify",
            audit.verify,
            VerifyReport,
            "Verify the log (200 with ok: false on tampering)",
        ),
    ]


def _insight_routes() -> list[Route]:
    """Reads of the past: point-in-time diffs, history exports and DORA metrics."""
    from ledger.http import dora, exports, past
    from ledger.schemas import DiffView, DoraView, HistoryItem

    env = "/v1/apps/{app}/envs/{env}"
    filters = ("app", "env", "kind", "actor", "actor_kind", "via", "correlation_id", "since")
    window = ("days", "until", "include_config", "min_position")

    def r(path: str, handler: Handler, response: Any, summary: str, **kw: Any) -> Route:
        return Route(
            method="GET", path=path, summary=summary, handler=handler, response=response, **kw
        )

    return [
        r(
            f"{env}/releases/{{a}}/diff/{{b}}",
            past.release_diff,
            DiffView,
            "What changes from release a to release b (build, config, flags, migrations)",
            query=("min_position",),
        ),
        r(
            f"{env}/diff",
            past.environment_diff,
            DiffView,
            "What differs from this environment now to ?against_env= now",
            query=("against_env", "min_position"),
        ),
        r(
            "/v1/history/export",
            exports.export_history,
            HistoryItem,
            "The filtered history, oldest first, streamed as NDJSON (or ?format=csv)",
            query=("format", *filters, "until", "q", "after", "min_position"),
            content_type="application/x-ndjson",
        ),
        r(f"{env}/dora", dora.environment_dora, DoraView, "DORA metrics", query=window),
        r(
            "/v1/dora",
            dora.all_dora,
            DoraView,
            "DORA metrics across apps (?app=, ?env=), pooled and per environment",
            query=("app", "env", *window),
        ),
    ]


def _visibility_routes() -> list[Route]:
    """The change feed (SSE) and the webhooks that push it."""
    from ledger.http import webhooks as w
    from ledger.http.feed import feed
    from ledger.schemas import HistoryItem
    from ledger.webhooks.models import NewWebhook, WebhookCreated, WebhookList, WebhookView

    hook = "/v1/webhooks/{id}"
    return [
        Route(
            method="GET",
            path="/v1/feed",
            summary="The change feed as Server-Sent Events (id: position, event: change, "
            "data: a history item), resumable with Last-Event-ID or ?after=",
            handler=feed,
            response=HistoryItem,
            query=("app", "env", "kind", "actor", "after"),
            content_type="text/event-stream",
        ),
        Route(
            method="POST",
            path="/v1/webhooks",
            summary="Add a webhook (admin); the answer shows its secret this once",
            handler=w.create_webhook,
            body=NewWebhook,
            response=WebhookCreated,
            status=201,
        ),
        Route(
            method="GET",
            path="/v1/webhooks",
            summary="List the webhooks (admin): state, position, last error; never secrets",
            handler=w.list_webhooks,
            response=WebhookList,
        ),
        Route(
            method="DELETE",
            path=hook,
            summary="Delete a webhook (admin)",
            handler=w.delete_webhook,
            status=204,
        ),
        Route(
            method="POST",
            path=f"{hook}/resume",
            summary="Resume a paused webhook (admin): it retries from where it stopped",
            handler=w.resume_webhook,
            response=WebhookView,
        ),
    ]
