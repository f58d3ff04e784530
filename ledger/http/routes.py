"""The route table: one list drives both the router and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from ledger.audit.export import ExportLine
from ledger.audit.messages import Checkpoint, ConsistencyProof, InclusionProof, VerifyReport
from ledger.connectors.models import (
    ConnectorCreated,
    ConnectorList,
    DeliveryList,
    NewConnector,
    ReceiverAnswer,
)
from ledger.domain import commands as c
from ledger.http import audit, diffs, dora, exports, gates, reads, request_list, runtime, whoami
from ledger.http import connectors as conn
from ledger.http import webhooks as w
from ledger.http.attention import needs_attention
from ledger.http.batch import BatchOperation, BatchResult, batch
from ledger.http.feed import feed
from ledger.http.ingest import ingest_cdevent
from ledger.http.routing import Handler, Route
from ledger.http.writes import write
from ledger.ingest.schema import CDEvent
from ledger.ingest.service import IngestResult
from ledger.webhooks.models import NewWebhook, WebhookCreated, WebhookList, WebhookView
from ledger.wire.attention import Attention
from ledger.wire.cloudevents import CloudEvent
from ledger.wire.gates import (
    Assessment,
    BuildDetail,
    PolicyView,
    RequestList,
    RequestStepBody,
    RequestView,
    WindowList,
)
from ledger.wire.runtime import DriftList, ReportAnswer, RuntimeReport
from ledger.wire.shapes import (
    AppList,
    AppView,
    Caller,
    DiffView,
    DoraView,
    DoraWeeks,
    HistoryItem,
    HistoryPage,
    ReleaseList,
    ReleaseView,
    StateView,
    WriteResult,
)

# The history filters, shared by the history page and its export.
_FILTERS = ("app", "env", "kind", "actor", "actor_kind", "via", "correlation_id", "since")
# What a read of the views includes: ?min_position=, and the log's head unless eventual.
_WAIT = ("min_position", "consistency")


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
        *_runtime_routes(),
        *_gate_routes(),
        *_connector_routes(),
    ]


def _get(path: str, handler: Handler, response: Any, summary: str, **kw: Any) -> Route:
    """A read route: GET, answered 200 with the response type."""
    return Route(method="GET", path=path, summary=summary, handler=handler, response=response, **kw)


def _write_routes() -> list[Route]:
    """The write routes: each decodes one command and answers 201 with the WriteResult."""

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
    return Route(
        method="POST",
        path="/v1/events:batch",
        summary="Many commands in one request (JSON array or NDJSON), answered per item",
        handler=batch,
        body=list[BatchOperation],
        response=BatchResult,
    )


def _read_routes() -> list[Route]:
    env = "/v1/apps/{app}/envs/{env}"
    history_query = (*_FILTERS, "until", "q", "limit", "cursor", "after", *_WAIT)
    return [
        _get("/v1/apps", reads.list_apps, AppList, "List apps", query=_WAIT),
        _get("/v1/apps/{app}", reads.get_app, AppView, "An app and its environments", query=_WAIT),
        _get(
            env,
            reads.get_state,
            StateView,
            "State of an environment: now, or as it was ?at= a time, ?release=, ?position=",
            query=("at", "release", "position", *_WAIT),
        ),
        _get(
            f"{env}/releases",
            reads.list_releases,
            ReleaseList,
            "Releases, newest first",
            query=_WAIT,
        ),
        _get(
            f"{env}/releases/{{version}}",
            reads.get_release,
            ReleaseView,
            "One release",
            query=_WAIT,
        ),
        _get(
            "/v1/history",
            reads.history,
            HistoryPage,
            "Change history, newest first",
            query=history_query,
        ),
        _get(
            "/v1/events",
            reads.events,
            list[CloudEvent],
            "The raw log as CloudEvents (Ledger-Next-After: the next `after`)",
            query=("after", "limit"),
            content_type="application/cloudevents-batch+json",
        ),
        _get(
            "/v1/whoami",
            whoami.whoami,
            Caller,
            "The caller: principal, kind and scopes (null in open mode, where all apply)",
        ),
    ]


def _ingest_route() -> Route:
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
    checkpoints = "/v1/checkpoints"
    note = "The checkpoint's C2SP signed note (Accept: text/plain; 406 for a v1 checkpoint)"
    return [
        _get(
            f"{checkpoints}/latest",
            audit.latest_checkpoint,
            Checkpoint,
            "The latest checkpoint",
            text=note,
        ),
        _get(
            f"{checkpoints}/{{tree_size}}", audit.checkpoint, Checkpoint, "A checkpoint", text=note
        ),
        _get(
            "/v1/events/{event_id}/proof",
            audit.event_proof,
            InclusionProof,
            "An event's inclusion proof in a checkpoint (default: the latest)",
            query=("tree_size",),
        ),
        _get(
            f"{checkpoints}/{{first}}/consistency/{{second}}",
            audit.consistency,
            ConsistencyProof,
            "Proof that checkpoint `first` is a prefix of checkpoint `second`",
        ),
        _get(
            "/v1/verify",
            audit.verify,
            VerifyReport,
            "Verify the log (200 with ok: false on tampering)",
        ),
        _get(
            "/v1/audit/export",
            exports.export_audit,
            ExportLine,
            "The log as a third party verifies it (docs/verification.md): NDJSON of a header, "
            "the checkpoints, every event's hashed form (no secret in plain text), an end line",
            content_type="application/x-ndjson",
        ),
    ]


def _insight_routes() -> list[Route]:
    """Reads of the past: point-in-time diffs, history exports and DORA metrics."""
    env = "/v1/apps/{app}/envs/{env}"
    window = ("days", "until", "include_config", *_WAIT)

    return [
        _get(
            f"{env}/releases/{{a}}/diff/{{b}}",
            diffs.release_diff,
            DiffView,
            "What changes from release a to release b (build, config, flags, migrations)",
            query=("min_position",),
        ),
        _get(
            f"{env}/diff",
            diffs.environment_diff,
            DiffView,
            "What differs from this environment now to ?against_env= now",
            query=("against_env", "min_position"),
        ),
        _get(
            "/v1/history/export",
            exports.export_history,
            HistoryItem,
            "The filtered history, oldest first, streamed as NDJSON (or ?format=csv)",
            query=("format", *_FILTERS, "until", "q", "after", *_WAIT),
            content_type="application/x-ndjson",
        ),
        _get(f"{env}/dora", dora.environment_dora, DoraView, "DORA metrics", query=window),
        _get(
            "/v1/dora",
            dora.all_dora,
            DoraView,
            "DORA metrics across apps (?app=, ?env=), pooled and per environment",
            query=("app", "env", *window),
        ),
        _get(
            "/v1/dora/weeks",
            dora.dora_weeks,
            DoraWeeks,
            "DORA metrics week by week, oldest first: each week as /v1/dora?days=7&until= its end",
            query=("app", "env", "weeks", "until", "include_config", *_WAIT),
        ),
    ]


def _visibility_routes() -> list[Route]:
    """The change feed (SSE) and the webhooks that push it."""
    hook = "/v1/webhooks/{id}"
    return [
        _get(
            "/v1/feed",
            feed,
            HistoryItem,
            "The change feed as Server-Sent Events (id: position, event: change, "
            "data: a history item), resumable with Last-Event-ID or ?after=",
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
        _get(
            "/v1/webhooks",
            w.list_webhooks,
            WebhookList,
            "List the webhooks (admin): state, position, last error; never secrets",
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


def _report(path: str, handler: Handler, body: Any, response: Any, what: str) -> Route:
    summary = f"Report what runs in {what} environment (runtime:write): 201, or 200 if unchanged"
    return Route(
        method="POST", path=path, summary=summary, handler=handler, body=body,
        response=response, status=201, also=(200,),
    )  # fmt: skip


def _runtime_routes() -> list[Route]:
    """What actually runs: reporters' reports, and the environments that drifted."""
    return [
        _report("/v1/runtime/reports", runtime.post_report, RuntimeReport, ReportAnswer, "an"),
        _report(
            "/v1/apps/{app}/envs/{env}/runtime",
            runtime.post_app_report,
            c.ReportRuntime,
            WriteResult,
            "one app in an",
        ),
        _get(
            "/v1/drift",
            runtime.drift,
            DriftList,
            "Every environment whose runtime is not in sync (?app=, ?env=)",
            query=("app", "env", *_WAIT),
        ),
        _get(
            "/v1/attention",
            needs_attention,
            Attention,
            "What needs someone now: drift, pending requests, freezes, failing webhooks and "
            "connectors, followers behind (?app=, ?env=)",
            query=("app", "env", *_WAIT),
        ),
    ]


def _gate_routes() -> list[Route]:
    """Gates: policies, evidence on builds, change requests, and assessments."""
    policy = "/v1/apps/{app}/envs/{env}/policy"
    request = "/v1/requests/{request_id}"
    every = {"app": {"type": "string", "pattern": c.POLICY_APP_PATTERN}}  # an app, or *
    return [
        _get(
            policy, gates.get_policy, PolicyView, "The policy in force (?at= a time)",
            query=("at",), path_schemas=every,
        ),
        Route(
            method="PUT", path=policy, handler=write(c.SetPolicy, {}), body=c.SetPolicy,
            response=WriteResult, status=201, path_schemas=every,
            summary="Set an app's policy in an env, or every app's with * (admin)",
        ),
        _get(
            f"{policy}/windows", gates.policy_windows, WindowList,
            "The freeze windows in force between ?from= and ?to= (default: the next 30 days)",
            query=("from", "to"), path_schemas=every,
        ),
        Route(
            method="POST", path="/v1/apps/{app}/builds/{build_id}/evidence",
            handler=write(c.RecordEvidence, {}), body=c.RecordEvidence, response=WriteResult,
            status=201, summary="Record evidence on a build: tests, scan, sbom, review, …",
        ),
        _get(
            "/v1/apps/{app}/builds/{build_id}", gates.get_build, BuildDetail,
            "A build and its evidence",
        ),
        _get(
            "/v1/apps/{app}/envs/{env}/gates", gates.assess, Assessment,
            "Whether a change may be made now by the caller, with every reason it may not "
            "(?build=, or ?from_env=, or ?action=rollback (?to_version=) or config)",
            query=("build", "from_env", "action", "to_version"),
        ),
        _get(
            "/v1/requests", request_list.list_requests, RequestList,
            "Change requests, newest first (?status=, ?app=, ?env=)",
            query=("status", "app", "env", "limit", *_WAIT),
        ),
        _get(request, gates.get_request, RequestView, "A change request"),
        Route(
            method="POST", path=f"{request}/approve", handler=gates.request_step(c.ApproveRequest),
            body=RequestStepBody, response=WriteResult, status=201, also=(200,),
            summary="Approve a change request (approve scope); the last approval releases it",
        ),
        Route(
            method="POST", path=f"{request}/reject", handler=gates.request_step(c.RejectRequest),
            body=RequestStepBody, response=WriteResult, status=201,
            summary="Reject a change request (approve scope) with a reason",
        ),
    ]  # fmt: skip


def _connector_routes() -> list[Route]:
    """Connectors: the webhooks other tools send, received as the ledger's commands."""
    one = "/v1/connectors/{name}"
    return [
        Route(
            method="POST", path="/v1/connectors", handler=conn.create_connector,
            body=NewConnector, response=ConnectorCreated, status=201,
            summary="Register a connector (admin); the answer shows its secret this once",
        ),
        _get("/v1/connectors", conn.list_connectors, ConnectorList,
             "The connectors (admin): receiver URL, last delivery, counts; never secrets"),
        Route(method="DELETE", path=one, handler=conn.delete_connector, status=204,
              summary="Delete a connector (admin)"),
        _get(f"{one}/deliveries", conn.list_deliveries, DeliveryList,
             "A connector's deliveries, newest first (?outcome=unmapped, …)",
             query=("outcome", "limit")),
        Route(
            method="POST", path=conn.RECEIVER, handler=conn.receive, response=ReceiverAnswer,
            status=201, also=(200, 202),
            summary="Where a tool sends its webhooks (verified by the tool's own scheme)",
        ),
    ]  # fmt: skip
