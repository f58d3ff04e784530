"""A delivery's way through a connector: verified by the tool's scheme, answered once per
delivery id (a repeat gets the first answer), translated into commands that the writer decides
like any other (gates included), and kept with what it came to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import msgspec

from ledger.connectors import known
from ledger.connectors.kinds import RECEIVERS
from ledger.connectors.models import DeliveryView, ReceiverAnswer
from ledger.connectors.registry import Connector, ConnectorStore
from ledger.connectors.translation import BadSignature, Changes, Delivery, Receiver, Skipped
from ledger.domain import commands as c
from ledger.domain.errors import DomainError, NotFound
from ledger.domain.events import BuildRecorded
from ledger.domain.model import App, Build, Environment, Release
from ledger.domain.names import app_id, environment_id
from ledger.domain.names import build_id as build_stream
from ledger.eventstore.application import LedgerStore
from ledger.service.writer import Writer
from ledger.wire.shapes import domain_problem, write_status

log = logging.getLogger("ledger.connectors")
REFUSALS_RECORDED_EVERY = 60.0
"""Seconds between two denied events for a connector's unverified deliveries (each is counted;
a flood of forged deliveries never floods the log)."""


class Unverified(Exception):
    """The delivery's signature did not verify: answered 401."""


class Receiving:
    """Deliveries to connectors, decided through the writer."""

    def __init__(self, store: ConnectorStore, writer: Writer) -> None:
        self.store = store
        self.writer = writer
        self._refused_at: dict[str, float] = {}
        self.delivered: Counter[tuple[str, str]] = Counter()  # (connector, outcome): the metric

    async def receive(self, name: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """The status and body the tool gets for its delivery."""
        connector = await self.store.get(name)
        if connector is None or connector.kind not in RECEIVERS:
            raise NotFound(f"no connector named {name!r}", field="name")
        receiver = RECEIVERS[connector.kind]
        delivery = Delivery(
            connector=name, headers={k.lower(): v for k, v in headers.items()}, body=body,
            received_at=datetime.now(UTC),
        )  # fmt: skip
        try:
            receiver.verify(connector.secret, delivery)
        except BadSignature as error:
            await self._refused(connector, receiver, delivery, str(error))
            raise Unverified(str(error)) from None
        delivery_id = receiver.delivery_id(delivery)
        answered = await self.store.answer_of(name, delivery_id)
        if answered is not None:
            await self.store.count_duplicate(name)
            self.delivered[name, "duplicate"] += 1
            replayed = msgspec.json.decode(answered, type=ReceiverAnswer)
            replayed.replayed = True
            return _status(replayed), msgspec.json.encode(replayed)
        return await self.handle(connector, receiver, delivery, delivery_id)

    async def handle(
        self, connector: Connector, receiver: Receiver, delivery: Delivery, delivery_id: str
    ) -> tuple[int, bytes]:
        """Translate and decide a verified delivery (again, when it waited)."""
        lookup = _Lookup(self.store, self.writer.store, connector.name)
        translated = await receiver.translate(delivery, connector.mapping, lookup)
        if isinstance(translated, Skipped):
            answer = ReceiverAnswer(
                delivery_id=delivery_id, outcome=translated.outcome, detail=translated.reason
            )
            await self._keep(connector, delivery, delivery_id, translated, answer)
            return 202, msgspec.json.encode(answer)
        answer = await self._decide(connector, receiver, translated, delivery_id)
        waits = answer.outcome == "waiting"
        await self._keep(connector, delivery, delivery_id, translated, answer)
        if answer.outcome == "recorded":
            await self._remember(connector, translated, answer)
        elif waits and not translated.commands and await _recorded_since(lookup, translated):
            retried = await self.retry(connector.name, delivery_id)
            if retried is not None:
                return retried
        return _status(answer), msgspec.json.encode(answer)

    async def _keep(
        self,
        connector: Connector,
        delivery: Delivery,
        delivery_id: str,
        translated: Changes | Skipped,
        answer: ReceiverAnswer,
    ) -> None:
        """Keep what the delivery came to (and, while it waits, the delivery), and count it."""
        view = DeliveryView(
            connector=connector.name, delivery_id=delivery_id, event=translated.event,
            outcome=answer.outcome, received_at=delivery.received_at, detail=answer.detail,
            position=answer.position, app=translated.app, env=translated.env,
        )  # fmt: skip
        waits = answer.outcome == "waiting" and isinstance(translated, Changes)
        commit = translated.commit if isinstance(translated, Changes) and waits else None
        kept = msgspec.json.encode(delivery) if waits else None
        await self.store.record(view, msgspec.json.encode(answer), commit, kept)
        self.delivered[connector.name, answer.outcome] += 1

    async def _decide(
        self, connector: Connector, receiver: Receiver, changes: Changes, delivery_id: str
    ) -> ReceiverAnswer:
        results: list[dict[str, Any]] = []
        position = 0
        if changes.wait_for_build and not changes.commands:
            detail = f"waits for a build of commit {changes.commit} of {changes.app}"
            return ReceiverAnswer(delivery_id=delivery_id, outcome="waiting", detail=detail)
        for index, command in enumerate(changes.commands):
            ctx = c.Context(
                actor=changes.actor, actor_kind=changes.actor_kind, authenticated=True,
                via=receiver.kind, correlation_id=f"{connector.name}:{delivery_id}",
                idempotency_key=f"connector:{connector.name}:{delivery_id}:{index}",
                scopes=receiver.scopes,
            )  # fmt: skip
            try:
                result = await self.writer.run(command, ctx)
            except DomainError as error:
                if changes.wait_for_build and isinstance(error, NotFound):
                    detail = f"waits for a build of commit {changes.commit} of {changes.app}"
                    return ReceiverAnswer(delivery_id=delivery_id, outcome="waiting", detail=detail,
                                          results=results)  # fmt: skip
                problem = msgspec.to_builtins(domain_problem(error))
                results.append({"op": _op(command), "status": error.status, "problem": problem})
                return ReceiverAnswer(
                    delivery_id=delivery_id, outcome="refused", detail=error.detail,
                    position=position or None, results=results,
                )  # fmt: skip
            position = max(position, result.position)
            results.append({"op": _op(command), "status": write_status(result),
                            "result": msgspec.to_builtins(result)})  # fmt: skip
        return ReceiverAnswer(
            delivery_id=delivery_id, outcome="recorded", position=position or None, results=results
        )

    async def _remember(
        self, connector: Connector, changes: Changes, answer: ReceiverAnswer
    ) -> None:
        """Releases and builds this delivery recorded, and the deliveries that waited for them."""
        if changes.reference and changes.app and changes.env:
            for version in _release_versions(answer):
                await self.store.remember_release(
                    connector.name, changes.app, changes.env, changes.reference, version
                )
        for app, commit, build_id in changes.builds:
            await self.store.remember_build(connector.name, app, commit, build_id)
            for waiting in await self.store.waiting_for(connector.name, app, commit):
                await self.retry(connector.name, waiting)

    async def retry(self, name: str, delivery_id: str) -> tuple[int, bytes] | None:
        """Handle a delivery that waits again, from the request kept (None: none waits)."""
        connector = await self.store.get(name)
        kept = await self.store.kept(name, delivery_id)
        if connector is None or kept is None:
            return None
        delivery = msgspec.json.decode(kept, type=Delivery)
        return await self.handle(connector, RECEIVERS[connector.kind], delivery, delivery_id)

    async def _refused(
        self, connector: Connector, receiver: Receiver, delivery: Delivery, detail: str
    ) -> None:
        """Count the refused delivery; record it as denied, at most once a minute."""
        self.delivered[connector.name, "rejected"] += 1
        view = DeliveryView(
            connector=connector.name, delivery_id=f"unverified-{time.time_ns()}", event="unknown",
            outcome="rejected", received_at=delivery.received_at, detail=detail,
        )  # fmt: skip
        await self.store.record(view, b"{}", None)
        last = self._refused_at.get(connector.name, 0.0)
        if time.monotonic() - last < REFUSALS_RECORDED_EVERY and last:
            return
        self._refused_at[connector.name] = time.monotonic()
        app = connector.mapping.app or "*"
        command = c.RefuseDelivery(app=app, connector=connector.name, detail=detail)
        ctx = c.Context(actor=f"connector:{connector.name}", actor_kind="system", via=receiver.kind,
                        scopes=frozenset({"read"}))  # fmt: skip
        with contextlib.suppress(DomainError):  # the refusal is recorded: that is its purpose
            await self.writer.run(command, ctx)


class _Lookup:
    def __init__(self, store: ConnectorStore, events: LedgerStore, connector: str) -> None:
        self.store = store
        self.events = events
        self.connector = connector

    async def build_of_commit(self, app: str, commit: str) -> str | None:
        return await self.store.build_of_commit(self.connector, app, commit)

    async def app_exists(self, app: str) -> bool:
        return isinstance(await asyncio.to_thread(self.events.load, app_id(app)), App)

    async def build_named(self, app: str, build_id: str) -> BuildRecorded | None:
        build = await asyncio.to_thread(self.events.load, build_stream(app, build_id))
        return build.recorded if isinstance(build, Build) else None

    async def release_of(self, app: str, env: str, reference: str) -> Release | None:
        version = await self.store.release_of(self.connector, app, env, reference)
        if version is None:
            return None
        state = await asyncio.to_thread(self.events.load, environment_id(app, env))
        return state.release(version) if isinstance(state, Environment) else None

    async def build_of_artifact(self, app: str, digest: str) -> str | None:
        return await asyncio.to_thread(known.build_of_artifact, self.events, app, digest)

    async def any_build_of_commit(self, app: str, commit: str) -> str | None:
        return await known.build_of_commit(self.store.database, app, commit)

    async def current_release(self, app: str, env: str) -> Release | None:
        return await asyncio.to_thread(known.release_of, self.events, app, env)


async def _recorded_since(lookup: _Lookup, changes: Changes) -> bool:
    """Whether the build a delivery waits for was recorded while it was translated."""
    if changes.app is None or changes.commit is None:
        return False
    return await lookup.build_of_commit(changes.app, changes.commit) is not None


def _release_versions(answer: ReceiverAnswer) -> list[int]:
    """The versions of the releases an answer's results made."""
    releases = [r.get("result", {}).get("release") for r in answer.results]
    return [int(r["version"]) for r in releases if isinstance(r, dict)]


def _op(command: c.AnyCommand) -> str:
    return str(type(command).__struct_config__.tag)


def _status(answer: ReceiverAnswer) -> int:
    """200 recorded (201 when something was appended), 202 when nothing was (yet), 409 or the
    refusal's status when a command was refused."""
    if answer.outcome == "refused":
        statuses = [r.get("status") for r in answer.results]
        last = statuses[-1] if statuses else 409
        return int(last) if isinstance(last, int) else 409
    if answer.outcome == "recorded":
        return 201 if answer.position else 200
    return 202
