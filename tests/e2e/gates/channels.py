"""The paths a change that creates a release takes into the ledger, each answered as an
``Outcome``: the HTTP routes, an item of POST /v1/events:batch, a CDEvent over HTTP
(POST /v1/cdevents) and over NATS (request-reply on ledger.ingest.cdevents)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nats
from nats.errors import NoRespondersError

from ...cdevents import fixture, wrap
from .places import Outcome, Place, build_id, digest_hex

SUBJECT = "ledger.ingest.cdevents"
ANSWER_WITHIN = 20.0  # seconds, for the ledger to subscribe and answer
SOURCE_ENV = "staging"  # where a promotion takes its build from
Event = dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One way a change reaches the ledger: an action (deploy, promote, config, rollback)
    through a channel (http, batch, cdevents, nats)."""

    action: str
    channel: str

    @property
    def id(self) -> str:
        return f"{self.action}-{self.channel}"


def prepare(place: Place, route: Route) -> None:
    """What the change needs before its policy is set: build b2 recorded (and running in
    staging for a promotion); for a rollback, b1 then b2 released."""
    if route.action == "config":
        return
    place.build("b2")
    if route.action == "promote":
        place.released(build_id("b2"), SOURCE_ENV)
    if route.action == "rollback":
        place.build("b1")
        place.released(build_id("b1"))
        place.released(build_id("b2"))


def attempt(place: Place, route: Route, nats_url: str | None = None) -> Outcome:
    """Send the route's change (deploy b2, promote from staging, set FEATURE, roll back to
    b1) and return what the ledger answered."""
    if route.channel == "http":
        return Outcome.of(_HTTP[route.action](place))
    if route.channel == "batch":
        return in_batch(place, _item(place, route.action))
    event = _EVENTS[route.action](place)
    if route.channel == "cdevents":
        headers, body = wrap(event, "structured")
        return Outcome.of(place.api.request("POST", "/v1/cdevents", raw=body, headers=headers))
    assert route.channel == "nats" and nats_url is not None
    return over_nats(nats_url, event)


_HTTP: dict[str, Callable[[Place], Any]] = {
    "deploy": lambda place: place.deploy(build_id("b2")),
    "promote": lambda place: place.promote(SOURCE_ENV),
    "config": lambda place: place.configure(),
    "rollback": lambda place: place.rollback(),
}


def _item(place: Place, action: str) -> dict[str, Any]:
    where = {"app": place.app, "env": place.env}
    return {
        "deploy": {"op": "deploy", "build_id": build_id("b2")},
        "promote": {"op": "promote", "from_env": SOURCE_ENV},
        "config": {"op": "change_config", "set": {"FEATURE": "on"}},
        "rollback": {"op": "rollback", "reason": "errors after the release"},
    }[action] | where


def in_batch(place: Place, item: dict[str, Any]) -> Outcome:
    """The change as the one item of a batch: the item's status and result or problem."""
    answer = place.api.request("POST", "/v1/events:batch", [item], headers=place.ci)
    assert answer.status == 200, answer
    [result] = answer.json["results"]
    return Outcome(result["status"], result.get("result") or result["problem"], repr(answer))


def _artifact(place: Place, build: str) -> str:
    return f"pkg:oci/{place.app}@sha256%3A{digest_hex(build)}?repository_url=ghcr.io/acme"


def _service(place: Place, kind: str, build: str) -> Event:
    event = fixture(kind)
    event["context"]["id"] = str(uuid.uuid4())
    event["subject"]["id"] = place.app
    event["subject"]["content"]["environment"]["id"] = place.env
    event["subject"]["content"]["artifactId"] = _artifact(place, build)
    return event


def _environment_modified(place: Place) -> Event:
    event = fixture("environment_modified")
    event["context"]["id"] = str(uuid.uuid4())
    event["subject"]["id"] = place.env
    event["customData"] = {"app": place.app, "config": {"set": {"FEATURE": "on"}}}
    return event


_EVENTS: dict[str, Callable[[Place], Event]] = {
    "deploy": lambda place: _service(place, "service_deployed", "b2"),
    "config": _environment_modified,
    "rollback": lambda place: _service(place, "service_rolledback", "b1"),
}


def over_nats(url: str, event: Event) -> Outcome:
    """The CDEvent as a NATS request; the reply's Ledger-Status and body."""
    return asyncio.run(_ask(url, json.dumps(event).encode()))


async def _ask(url: str, body: bytes) -> Outcome:
    client = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
    deadline = time.monotonic() + ANSWER_WITHIN
    try:
        while True:
            try:
                reply = await client.request(SUBJECT, body, timeout=ANSWER_WITHIN)
                break
            except NoRespondersError:  # the ledger has not subscribed yet
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
    finally:
        await client.close()
    status = int((reply.headers or {})["Ledger-Status"])
    return Outcome(status, json.loads(reply.data), f"NATS {status} {reply.data[:600]!r}")
