"""The deliverer: every matching history item to every webhook, in order, at least once.

One task per webhook, so a slow or broken receiver never holds up the others. A webhook's
position moves on only after its receiver answered 2xx (items it does not want are passed
over); a failure or timeout is retried with exponential backoff, and a receiver that has
been failing for longer than LEDGER_WEBHOOK_PAUSE_AFTER_SECONDS is paused until resumed.
Runs with the other followers (roles all and worker), one active owner at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import aiohttp
import msgspec

from ledger.eventstore.application import LedgerStore
from ledger.settings import Settings
from ledger.webhooks.payloads import (
    Payload,
    cloudevent_payload,
    delivery_headers,
    slack_message,
    trace_headers,
)
from ledger.webhooks.registry import Webhook, WebhookStore, now
from ledger.wire.shapes import HistoryItem
from projections.follower import Ownership, SoleOwner
from projections.queries import HistoryQuery
from projections.views import Views

log = logging.getLogger("ledger.webhooks")
PAGE = 100
RELOAD_SECONDS = 2.0


class Paused(Exception):
    """The receiver has failed for too long: the webhook waits to be resumed."""


class Moved(Exception):
    """The webhook was deleted, or another worker moved its position on."""


class Undeliverable(Exception):
    """An item that cannot be made into a payload, or that the receiver refuses as too large:
    sending it again would fail again, so it is recorded as the webhook's failure and passed
    over."""


REFUSED_AS_TOO_LARGE = 413


class Deliverer:
    """Supervises one delivery task per active webhook."""

    name = "webhooks"

    def __init__(
        self,
        store: LedgerStore,
        views: Views,
        hooks: WebhookStore,
        *,
        base_url: str,
        pause_after: float = 3600.0,
        timeout: float = 5.0,
        backoff: tuple[float, float] = (1.0, 60.0),
        poll_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.views = views
        self.hooks = hooks
        self.base_url = base_url
        self.pause_after = timedelta(seconds=pause_after)
        self.timeout = timeout
        self.backoff = backoff
        self.poll_seconds = poll_seconds
        self.ownership: Ownership = SoleOwner()
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.owner = False  # whether this process delivers (one owner across all workers)
        self.positions: dict[str, int] = {}  # the position each delivering webhook reached
        self.failed = 0  # items passed over (recorded as failures) since the process started
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def of(
        cls, settings: Settings, store: LedgerStore, views: Views, hooks: WebhookStore
    ) -> Deliverer:
        """The deliverer the settings describe (LEDGER_PUBLIC_URL, the pause)."""
        return cls(
            store,
            views,
            hooks,
            base_url=settings.base_url,
            pause_after=settings.webhook_pause_after_seconds,
        )

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name="ledger-webhooks")

    def wake(self) -> None:
        """Webhooks were added, deleted or resumed: look now, not at the next reload."""
        self._wakeup.set()

    def cancel(self) -> None:
        """Stop at once (a shutdown out of time): each webhook's position is stored with each
        delivery, so the next owner resends at most the interrupted one."""
        if self._task is not None:
            self._task.cancel()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.ownership.release()
        self.owner = False

    async def _supervise(self) -> None:
        self._session = aiohttp.ClientSession()
        try:
            while True:
                self._wakeup.clear()
                try:
                    await self._reconcile()
                except Exception as error:
                    log.warning("cannot load the webhooks: %s", error)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(RELOAD_SECONDS):
                        await self._wakeup.wait()
        finally:
            await self._stop_workers(set(self.workers))
            await self._session.close()

    async def _reconcile(self) -> None:
        """One task for each active webhook, while this process is the owner."""
        self.owner = owner = await self.ownership.acquire()
        active = {h.id: h for h in await self.hooks.all() if not h.paused} if owner else {}
        await self._stop_workers(set(self.workers) - set(active))
        for gone in set(self.positions) - set(active):
            del self.positions[gone]
        for hook_id, hook in active.items():
            task = self.workers.get(hook_id)
            if task is None or task.done():
                self.positions[hook_id] = hook.position
                self.workers[hook_id] = asyncio.create_task(
                    self._deliver_all(hook), name=f"ledger-webhook-{hook_id}"
                )

    async def _stop_workers(self, ids: set[str]) -> None:
        tasks = [self.workers.pop(i) for i in ids]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver_all(self, hook: Webhook) -> None:
        """Follow the history view from the webhook's position; ends when paused or moved."""
        try:
            while True:
                reached = await self.views.queries.position()
                if not await self._deliver_page(hook):
                    await self.views.wait_for(reached + 1, self.poll_seconds)
        except Paused:
            log.warning("webhook %s paused: %s", hook.id, hook.last_error)
        except Moved:
            log.info("webhook %s was deleted or moved on elsewhere", hook.id)
        except Exception:
            log.exception("webhook %s failed; it restarts at the next reload", hook.id)

    async def _deliver_page(self, hook: Webhook) -> int:
        """Deliver the next page of items after the webhook's position; return its size."""
        query = HistoryQuery(
            app=hook.filter.app, env=hook.filter.env, after=hook.position, limit=PAGE
        )
        items = (await self.views.queries.history(query)).items
        for item in items:
            if not hook.filter.matches(item):
                continue
            try:
                await self._deliver(hook, item)
            except Undeliverable as error:
                await self._pass_over(hook, item, error)
            else:
                await self._advance(hook, item.position, delivered=True)
        if items and hook.position < items[-1].position:
            await self._advance(hook, items[-1].position, delivered=False)
        return len(items)

    async def _advance(self, hook: Webhook, position: int, *, delivered: bool) -> None:
        at = now() if delivered else None
        if not await self.hooks.advance(hook.id, position, hook.position, at):
            raise Moved(hook.id)
        hook.position = self.positions[hook.id] = position

    async def _pass_over(self, hook: Webhook, item: HistoryItem, error: Undeliverable) -> None:
        log.error("webhook %s passes over position %d: %s", hook.id, item.position, error)
        event_id = str(item.event_id)
        if not await self.hooks.pass_over(hook.id, item.position, hook.position, event_id, error):
            raise Moved(hook.id)
        hook.position = self.positions[hook.id] = item.position
        self.failed += 1

    async def _deliver(self, hook: Webhook, item: HistoryItem) -> None:
        """POST the item until the receiver answers 2xx (or the webhook is paused)."""
        try:
            payload = await self._payload(hook, item)
        except (ValueError, TypeError) as unmade:  # e.g. text JSON cannot encode
            raise Undeliverable(f"{type(unmade).__name__}: {unmade}") from unmade
        headers = delivery_headers(hook.secret, payload, item.position, hook.id)
        delay, longest = self.backoff
        while (error := await self._post(hook.url, payload.body, headers)) is not None:
            at = now()
            hook.last_error = error
            failing_since = await self.hooks.failed(hook.id, error, at)
            log.info("webhook %s: delivery of %d failed: %s", hook.id, item.position, error)
            if at - failing_since >= self.pause_after:
                await self.hooks.pause(hook.id, at)
                raise Paused(hook.id)
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)

    async def send_once(self, hook: Webhook, item: HistoryItem) -> str | None:
        """POST the item once, alone (a retry of one passed over): None when the receiver
        took it, else what went wrong."""
        self._session = aiohttp.ClientSession()
        try:
            payload = await self._payload(hook, item)
            headers = delivery_headers(hook.secret, payload, item.position, hook.id)
            return await self._post(hook.url, payload.body, headers)
        except (Undeliverable, ValueError, TypeError) as error:
            return str(error)
        finally:
            await self._session.close()
            self._session = None

    async def _payload(self, hook: Webhook, item: HistoryItem) -> Payload:
        if hook.format == "slack":
            body = msgspec.json.encode(slack_message(item, self.base_url))
            trace = await asyncio.to_thread(trace_headers, self.store, item.position)
            return Payload(body, "application/json", trace)
        shown = self.views.fingerprints
        return await asyncio.to_thread(cloudevent_payload, self.store, item.position, shown)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        """None when the receiver took it (2xx), else what went wrong."""
        assert self._session is not None
        try:
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                await response.read()
        except TimeoutError:
            return f"no answer within {self.timeout:g}s"
        except aiohttp.ClientError as error:
            return f"{type(error).__name__}: {error}"
        if response.status == REFUSED_AS_TOO_LARGE:
            raise Undeliverable(f"HTTP {response.status}: the receiver refuses this payload")
        return None if 200 <= response.status < 300 else f"HTTP {response.status}"
