"""The aiohttp application factory and the server entry point."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ledger.bootstrap import open_ledger
from ledger.http.auth import auth_middleware, is_loopback
from ledger.http.dashboard import add_dashboard
from ledger.http.feed import close_streams, feed_hub
from ledger.http.keys import LEDGER, SETTINGS, STORE, TOKENS, VIEWS, WRITER
from ledger.http.metrics import METRICS, HttpMetrics, metrics, metrics_middleware
from ledger.http.openapi import openapi_document
from ledger.http.problems import problem_middleware
from ledger.http.ratelimit import RATE_BUCKETS, rate_limit_middleware
from ledger.http.responses import json_response
from ledger.http.routes import all_routes
from ledger.http.telemetry import start_tracing
from ledger.logs import configure_logging
from ledger.service.tokens import open_tokens
from ledger.settings import Settings
from projections.failures import failed_positions, failures
from projections.follower import lagging

log = logging.getLogger("ledger.server")


def create_app(settings: Settings) -> web.Application:
    """The HTTP application; the ledger opens on startup and closes on cleanup."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[
            metrics_middleware,
            problem_middleware,
            auth_middleware,
            rate_limit_middleware,
        ],
    )
    app[METRICS] = HttpMetrics(app)
    app[SETTINGS] = settings
    app[RATE_BUCKETS] = {}
    deadline = Deadline(settings.shutdown_timeout_seconds)
    app.on_shutdown.append(deadline.start)
    app.cleanup_ctx.append(lambda app: _ledger(app, deadline))
    if settings.role != "worker":
        app.cleanup_ctx.append(feed_hub)  # the SSE feed's fan-out, once the ledger is open
        app.on_shutdown.append(close_streams)
        add_dashboard(app.router)
    routes = all_routes() if settings.role != "worker" else []  # a worker serves health only
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
    document = openapi_document(routes)

    async def openapi(_: web.Request) -> web.Response:
        return json_response(document)

    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


class Deadline:
    """When a shutdown must be over: LEDGER_SHUTDOWN_TIMEOUT_SECONDS after it began. Requests
    in flight, then the ledger's own work, share that time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at: float | None = None

    async def start(self, _app: web.Application) -> None:
        """on_shutdown: SIGTERM arrived and the listeners are closed."""
        self.at = asyncio.get_running_loop().time() + self.seconds

    def left(self) -> float | None:
        """Seconds left (None: no shutdown began, e.g. the app failed to start)."""
        if self.at is None:
            return None
        return max(self.at - asyncio.get_running_loop().time(), 0.0)


async def _ledger(app: web.Application, deadline: Deadline) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    ledger = await open_ledger(settings, follow=settings.role != "api")
    app[STORE], app[WRITER], app[VIEWS] = ledger.store, ledger.writer, ledger.views
    app[TOKENS] = ledger.tokens
    app[LEDGER] = ledger
    yield
    await ledger.close(deadline.left())


async def healthz(_: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the store answers within LEDGER_READY_TIMEOUT_SECONDS, no follower this
    process owns is more than LEDGER_READY_MAX_LAG events behind, and no follower passed an
    event over (it names each one and the positions); reports each one's lag."""
    settings, ledger = request.app[SETTINGS], request.app[LEDGER]
    try:
        async with asyncio.timeout(settings.ready_timeout_seconds):
            head = await asyncio.to_thread(request.app[STORE].head)
            passed_over = failed_positions(await failures(request.app[VIEWS].database))
    except Exception as error:  # TimeoutError included: the store does not answer in time
        return json_response({"status": "unavailable", "error": type(error).__name__}, 503)
    position = request.app[VIEWS].runner.position
    body: dict[str, object] = {"status": "ready", "head": head, "views": position}
    body["lag"] = head - position
    publisher = ledger.publisher
    if publisher is not None:
        body["nats"] = {
            "position": publisher.position,
            "lag": head - publisher.position,
            "state": "failing: " + publisher.failing if publisher.failing else "publishing",
        }
    if behind := lagging(ledger.followers, head, settings.ready_max_lag):
        body["status"] = "behind"
        body["behind"] = behind
        return json_response(body, 503, **{"Retry-After": "5"})
    if passed_over:
        body["status"] = "failing"
        body["failed"] = passed_over  # `ledger projections failures` says why; retry after a fix
        return json_response(body, 503)
    return json_response(body)


async def _has_tokens(settings: Settings) -> bool:
    async with open_tokens(settings) as tokens:
        return await tokens.any_active()


def run_server(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM. Open mode (no tokens) listens on loopback only."""
    configure_logging(settings.log_level)
    secured = asyncio.run(_has_tokens(settings))
    if not secured and not is_loopback(settings.host):
        raise SystemExit(
            f"refusing to listen on {settings.host}: no tokens exist, so the ledger would run "
            "open (anyone may write). Create one with `ledger token create`, or listen on "
            "127.0.0.1."
        )
    store = "SQLite in " + str(settings.data_dir) if settings.embedded else "PostgreSQL"
    mode = "tokens required" if secured else "open mode: no tokens, loopback only"
    log.info(
        f"ledger listening ({mode})",
        extra={"url": f"http://{settings.host}:{settings.port}", "store": store},
    )
    stop_tracing = start_tracing()  # before the application: it traces the ones made after
    try:
        _serve(settings)
    finally:
        if stop_tracing is not None:
            stop_tracing()  # the spans still waiting are sent


def _serve(settings: Settings) -> None:
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        # aiohttp waits this long for the requests in flight, then cancels them and waits as
        # long again: half the budget each, so that a stuck request cannot hold the exit up.
        shutdown_timeout=settings.shutdown_timeout_seconds / 2,
    )
