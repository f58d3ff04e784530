"""GET /metrics: Prometheus metrics of requests, the writer, the followers and the pools."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from ledger.audit import WitnessFollower
from ledger.http.keys import LEDGER
from ledger.http.routing import Handler


class HttpMetrics:
    """A registry per application (several apps may live in one process, e.g. in tests)."""

    def __init__(self, app: web.Application) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "ledger_http_request_seconds",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.registry.register(LedgerCollector(app))


METRICS = web.AppKey("metrics", HttpMetrics)


class LedgerCollector(Collector):
    """Read at scrape time: the log head, each follower's position and lag, the writer."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        ledger = self.app.get(LEDGER)
        if ledger is None:
            return
        yield from ledger.writer.metrics.collect()
        head = ledger.store.recorder.max_notification_id() or 0
        yield GaugeMetricFamily("ledger_log_head", "Position of the newest event", value=head)
        lag = GaugeMetricFamily(
            "ledger_follower_lag", "Events a follower is behind", labels=["follower"]
        )
        owner = GaugeMetricFamily(
            "ledger_follower_owner", "1 where this process owns the follower", labels=["follower"]
        )
        failed = CounterMetricFamily(
            "ledger_projection_failures",
            "Events a follower could not handle and passed over (see ledger projections failures)",
            labels=["follower"],
        )
        for follower in ledger.followers:
            lag.add_metric([follower.name], head - follower.position)
            owner.add_metric([follower.name], 1 if follower.owner else 0)
            failed.add_metric([follower.name], follower.failed)
        deliverer = ledger.deliverer
        if deliverer is not None:
            owner.add_metric([deliverer.name], 1 if deliverer.owner else 0)
            failed.add_metric([deliverer.name], deliverer.failed)
            webhooks = GaugeMetricFamily(
                "ledger_webhook_lag",
                "Events a webhook's deliveries are behind (on the delivering process)",
                labels=["webhook"],
            )
            for hook_id, position in deliverer.positions.items():
                webhooks.add_metric([hook_id], head - position)
            yield webhooks
        yield lag
        yield owner
        yield failed
        deliveries = CounterMetricFamily(
            "ledger_connector_deliveries",
            "Deliveries a connector received in this process, by outcome (duplicate: a repeat)",
            labels=["connector", "outcome"],
        )
        for (name, outcome), count in sorted(ledger.connectors.delivered.items()):
            deliveries.add_metric([name, outcome], count)
        yield deliveries
        if ledger.witnesses is not None:
            yield from _witness_metrics(ledger.witnesses)
        if ledger.views.replica is not None:
            yield CounterMetricFamily(
                "ledger_replica_fallbacks",
                "reads the primary answered because the read replica was behind",
                value=ledger.views.replica.fallbacks,
            )


def _witness_metrics(witnesses: WitnessFollower) -> Iterator[Metric]:
    """Per witness (by name): the tree it holds of this log, and its failures to cosign."""
    size = GaugeMetricFamily(
        "ledger_witness_tree_size",
        "The tree size a witness last cosigned (or said it holds) of this log",
        labels=["witness"],
    )
    failures = CounterMetricFamily(
        "ledger_witness_failures",
        "Submissions to a witness that got no cosignature, in this process",
        labels=["witness"],
    )
    for endpoint in witnesses.endpoints:
        status = witnesses.statuses.get(endpoint.verifier_key)
        if status is not None:
            size.add_metric([endpoint.key.name], status.tree_size)
        failures.add_metric([endpoint.key.name], witnesses.failures[endpoint.verifier_key])
    yield size
    yield failures


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        request.app[METRICS].requests.labels(name, request.method, str(status)).observe(
            time.perf_counter() - started
        )


async def metrics(request: web.Request) -> web.Response:
    # In a thread: reading the log head waits for the store, which may be away for a while.
    body = await asyncio.to_thread(generate_latest, request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})
