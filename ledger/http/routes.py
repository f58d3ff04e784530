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
    content_type: str = "application/json"
    renames: dict[str, str] = {}
    query: tuple[str, ...] = ()


def all_routes() -> list[Route]:
    """Every route of the API, writes then reads."""
    return _write_routes() + _read_routes()


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
            summary="Current state of an environment",
            handler=reads.get_state,
            response=StateView,
            query=wait,
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
