"""The composition root: opens the event store, the writer and the views, and wires them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from ledger.audit import (
    AuditLog,
    Checkpointer,
    WitnessFollower,
    checkpointer_for,
    open_audit,
    witnesses_for,
)
from ledger.connectors.receiving import Receiving
from ledger.connectors.registry import ConnectorStore
from ledger.eventstore.application import LedgerStore
from ledger.ingest.nats import Responder
from ledger.ingest.service import Ingestor
from ledger.jetstream.publisher import Publisher
from ledger.read_side import open_views
from ledger.service import wakeups
from ledger.service.expiry import RequestExpiry
from ledger.service.head import LogHead, log_head
from ledger.service.ownership import ownership
from ledger.service.tokens import Tokens
from ledger.service.writer import Writer
from ledger.settings import Settings
from ledger.webhooks.deliverer import Deliverer
from ledger.webhooks.registry import WebhookStore
from projections.follower import LogFollower
from projections.runner import ProjectionRunner
from projections.views import Views

log = logging.getLogger("ledger")


@dataclass
class Ledger:
    """Everything a running ledger holds open."""

    settings: Settings
    store: LedgerStore
    writer: Writer
    views: Views
    tokens: Tokens
    audit: AuditLog
    webhooks: WebhookStore
    connectors: Receiving
    head: LogHead  # what a read waits for: every write acknowledged before it began
    publisher: Publisher | None = None
    deliverer: Deliverer | None = None  # webhooks, in the roles that follow the log
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    followers: list[LogFollower] = field(default_factory=list)
    listening: asyncio.Task[None] | None = None
    checkpointer: Checkpointer | None = None
    responder: Responder | None = None  # CDEvents ingest over NATS
    expiry: RequestExpiry | None = None  # records overdue change requests, with the followers
    witnesses: WitnessFollower | None = None  # gets checkpoints cosigned, with the followers

    async def close(self, timeout: float | None = None) -> None:
        """Finish queued writes and the current batch of each follower, then close the stores.

        With ``timeout``, stop waiting after that many seconds. What is left undone is as
        safe as after a crash: nothing unsaved was acknowledged, and each follower stores its
        position with its work, so the next owner redoes the interrupted batch."""
        try:
            async with asyncio.timeout(timeout):
                await self._close(timeout)
        except TimeoutError:
            log.warning("closing took longer than %.1fs; stopping without waiting", timeout)
            self._abandon()

    def _abandon(self) -> None:
        """Stop every task and thread without waiting for any (a shutdown out of time)."""
        self.stopping.set()
        if self.listening is not None:
            self.listening.cancel()
        for follower in self.followers:
            follower.cancel()
        if self.deliverer is not None:
            self.deliverer.cancel()
        if self.expiry is not None:
            self.expiry.cancel()
        if self.witnesses is not None:
            self.witnesses.cancel()
        self.writer.close(0)  # the writer thread stops after its current batch

    async def _close(self, timeout: float | None) -> None:
        self.stopping.set()
        if self.listening is not None:
            await self.listening
        if self.responder is not None:
            await self.responder.close()
        if self.expiry is not None:  # before the writer: it sends commands
            await self.expiry.stop()
        await asyncio.to_thread(self.writer.close, timeout)
        if self.publisher is not None:
            await self.publisher.close()
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        if self.deliverer is not None:
            await self.deliverer.stop()
        if self.witnesses is not None:
            await self.witnesses.stop()
        await self.views.close()
        self.store.close()


async def open_ledger(settings: Settings, *, follow: bool = True) -> Ledger:
    """Open the ledger; with ``follow`` the projection runner follows the log in this process."""
    store = await asyncio.to_thread(LedgerStore, settings)
    writer = Writer(
        store,
        batch_max=settings.batch_max,
        snapshot_interval=settings.snapshot_interval,
        moment_interval=settings.moment_interval,
        rules=settings.rules(),
    )
    views = await open_views(settings, store)
    tokens = Tokens(views.database)
    await tokens.create_table()
    audit = await open_audit(settings, views.database)
    webhooks = WebhookStore(views.database)
    await webhooks.create_table()
    connectors = ConnectorStore(views.database, settings.cipher_key)
    await connectors.create_tables()
    head = await asyncio.to_thread(log_head, store, writer, views.database, views.runner)
    ledger = Ledger(
        settings=settings,
        store=store,
        writer=writer,
        views=views,
        tokens=tokens,
        audit=audit,
        webhooks=webhooks,
        connectors=Receiving(connectors, writer),
        head=head,
    )
    if follow:
        _follow(ledger)
    if settings.nats_url:
        ledger.responder = Responder(Ingestor(store, writer), settings.nats_url)
        ledger.responder.start()
    return ledger


def _follow(ledger: Ledger) -> None:
    """Start the followers of the log in this process, woken after every append."""
    ledger.checkpointer = checkpointer_for(ledger.store, ledger.audit)
    followers: list[ProjectionRunner | Publisher | Checkpointer] = [
        ledger.views.runner,
        ledger.checkpointer,
    ]
    if ledger.settings.nats_url:
        ledger.publisher = Publisher(ledger.store, ledger.views, ledger.settings.nats_url)
        followers.append(ledger.publisher)
    ledger.followers = list(followers)
    for follower in followers:  # one active owner per follower across all workers
        follower.ownership = ownership(ledger.settings.database_url, follower.name)
    loop = asyncio.get_running_loop()

    def wake(_head: int = 0) -> None:
        for follower in followers:
            loop.call_soon_threadsafe(follower.wake)

    if ledger.settings.database_url:  # appends of other processes wake this one's followers
        ledger.listening = asyncio.create_task(
            wakeups.listen(ledger.settings.database_url, wake, ledger.stopping)
        )

    ledger.writer.listeners.append(wake)
    for follower in followers:
        follower.start()
    ledger.deliverer = Deliverer.of(ledger.settings, ledger.store, ledger.views, ledger.webhooks)
    ledger.deliverer.ownership = ownership(ledger.settings.database_url, ledger.deliverer.name)
    ledger.deliverer.start()
    _sweep_expired_requests(ledger)
    _witness(ledger)


def _witness(ledger: Ledger) -> None:
    """Send each new checkpoint to the witnesses, woken by the checkpointer."""
    ledger.witnesses = witnesses_for(ledger.settings, ledger.audit)
    if ledger.witnesses is None or ledger.checkpointer is None:
        return
    ledger.checkpointer.listeners.append(ledger.witnesses.wake)
    ledger.witnesses.start()


def _sweep_expired_requests(ledger: Ledger) -> None:
    """Record overdue change requests as expired, in one process at a time."""
    settings = ledger.settings
    ledger.expiry = RequestExpiry(
        ledger.views.queries,
        ledger.writer,
        interval=settings.request_sweep_seconds,
        ownership=ownership(settings.database_url, RequestExpiry.name),
    )
    ledger.expiry.start()
