"""The witnessing follower: each new checkpoint goes to every witness in LEDGER_WITNESSES
(c2sp.org/tlog-witness), with a consistency proof from the tree that witness holds of this
log; each cosignature that verifies with the witness's key is stored beside the checkpoint.

One task per witness, so a slow or down witness holds up no other, and none holds up an
append or a checkpoint: a failure is recorded with the witness (``ledger checkpoint`` shows
it) and retried with exponential backoff, or at once when a new checkpoint is written. The
first submission says ``old 0``; a witness that holds a larger tree answers 409 with its
size, and the next submission starts from there.
Runs with the other followers (roles all and worker), one active owner at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import NamedTuple

import aiohttp

from ledger.audit.cosigning import WitnessKey, cosigned_by
from ledger.audit.messages import Checkpoint, WitnessStatus
from ledger.audit.proofs import AuditLog
from ledger.audit.witness_client import Conflict, Cosigned, Failed, add_checkpoint
from ledger.domain.notes import split_note
from ledger.domain.witness_protocol import AddCheckpoint
from ledger.settings import Settings
from projections.follower import Ownership, SoleOwner

log = logging.getLogger("ledger.witnesses")
OWNERSHIP_SECONDS = 2.0
MOST_CONFLICTS = 3
"""409s in a row that one submission follows (the witness moved on meanwhile) before it
waits and tries again."""


class WitnessEndpoint(NamedTuple):
    """A witness as LEDGER_WITNESSES names it: its submission URL and its verifier key."""

    url: str
    verifier_key: str
    key: WitnessKey

    @classmethod
    def of(cls, url: str, verifier_key: str) -> WitnessEndpoint:
        return cls(url, verifier_key, WitnessKey.parse(verifier_key))


class WitnessFollower:
    """Supervises one submission task per witness while this process is the owner."""

    name = "witnesses"

    def __init__(
        self,
        audit: AuditLog,
        endpoints: list[WitnessEndpoint],
        *,
        ownership: Ownership | None = None,
        poll_seconds: float = 1.0,
        timeout: float = 10.0,
        backoff: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        self.audit = audit
        self.store = audit.witnesses
        self.endpoints = endpoints
        self.ownership = ownership or SoleOwner()
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.backoff = backoff
        self.owner = False
        self.statuses: dict[str, WitnessStatus] = {}  # by verifier key, as last seen here
        self.failures: dict[str, int] = {e.verifier_key: 0 for e in endpoints}
        self._wakeups = {e.verifier_key: asyncio.Event() for e in endpoints}
        self._tasks: list[asyncio.Task[None]] = []
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def of(cls, settings: Settings, audit: AuditLog) -> WitnessFollower | None:
        """The follower of the witnesses in LEDGER_WITNESSES, or None when there are none."""
        if not settings.witnesses:
            return None
        return cls(audit, [WitnessEndpoint.of(url, key) for url, key in settings.witnesses])

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name="ledger-witnesses")

    def wake(self) -> None:
        """A checkpoint was written: send it now, not at the next poll."""
        for wakeup in self._wakeups.values():
            wakeup.set()

    def cancel(self) -> None:
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
                try:
                    self.owner = await self.ownership.acquire()
                except Exception as error:  # the database away: not the owner for now
                    log.warning("witnesses: cannot take ownership: %s", error)
                    self.owner = False
                if self.owner and not self._tasks:
                    self._tasks = [
                        asyncio.create_task(self._follow(e), name=f"ledger-witness-{e.key.name}")
                        for e in self.endpoints
                    ]
                elif not self.owner and self._tasks:
                    await self._stop_tasks()
                await asyncio.sleep(OWNERSHIP_SECONDS)
        finally:
            await self._stop_tasks()
            await self._session.close()

    async def _stop_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self, endpoint: WitnessEndpoint) -> None:
        """Keep the witness's cosignature of the latest checkpoint, retrying with backoff."""
        wakeup, delay = self._wakeups[endpoint.verifier_key], self.backoff[0]
        status: WitnessStatus | None = None
        while True:
            wakeup.clear()
            try:
                if status is None:
                    status = await self.store.status(endpoint.verifier_key, endpoint.url)
                    self.statuses[endpoint.verifier_key] = status
                error = await self._bring_up_to_date(endpoint, status)
            except Exception as unexpected:  # the store away, say: the next try may do
                error = f"{type(unexpected).__name__}: {unexpected}"
            if error is None:
                delay = self.backoff[0]
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await wakeup.wait()
                continue
            await self._failed(endpoint, status, error)
            with contextlib.suppress(TimeoutError):  # a new checkpoint is sent at once
                async with asyncio.timeout(delay):
                    await wakeup.wait()
            delay = min(delay * 2, self.backoff[1])

    async def _failed(
        self, endpoint: WitnessEndpoint, status: WitnessStatus | None, error: str
    ) -> None:
        self.failures[endpoint.verifier_key] += 1
        log.warning(
            "witness %s: no cosignature: %s",
            endpoint.key.name,
            error,
            extra={"witness": endpoint.verifier_key, "url": endpoint.url},
        )
        if status is not None:
            with contextlib.suppress(Exception):  # the store away: the log line says it
                await self.store.failed(status, error)

    async def _bring_up_to_date(
        self, endpoint: WitnessEndpoint, status: WitnessStatus
    ) -> str | None:
        """Get the latest checkpoint cosigned, if it is not yet; the failure, if any."""
        latest = await self.audit.latest()
        if latest is None or latest.note is None:
            return None  # nothing to witness yet (or a v1 checkpoint, which is no note)
        if latest.signature is None:
            return "the checkpoints are not signed (set LEDGER_SIGNING_KEY): none is cosigned"
        if (status.tree_size, status.root_hash) == (latest.tree_size, latest.root_hash):
            return None
        return await self._submit(endpoint, status, latest)

    async def _submit(
        self, endpoint: WitnessEndpoint, status: WitnessStatus, latest: Checkpoint
    ) -> str | None:
        """Send the checkpoint from the tree the witness holds; follow its 409s."""
        assert self._session is not None and latest.note is not None
        for _ in range(MOST_CONFLICTS):
            # a witness beyond this tree is asked from 0: its 409 tells (and it logs) its size
            old = status.tree_size if status.tree_size <= latest.tree_size else 0
            proof = await self.audit.consistency_nodes(old, latest.tree_size) if old else []
            request = AddCheckpoint(old, proof, latest.note)
            answer = await add_checkpoint(self._session, endpoint.url, request, self.timeout)
            if isinstance(answer, Cosigned):
                return await self._store(endpoint, status, latest, answer)
            if isinstance(answer, Failed):
                return answer.reason
            if (problem := _conflict_problem(answer, old, latest)) is not None:
                await self.store.holds(status, answer.size)
                return problem
            await self.store.holds(status, answer.size)
        return "the witness's size kept changing (409)"

    async def _store(
        self, endpoint: WitnessEndpoint, status: WitnessStatus, latest: Checkpoint, answer: Cosigned
    ) -> str | None:
        assert latest.note is not None
        body, _ = split_note(latest.note)
        cosignature = cosigned_by(body, answer.signatures, endpoint.key)
        if cosignature is None:
            return (
                f"the witness answered no cosignature that verifies with the key "
                f"{endpoint.verifier_key} (is it the witness's key?)"
            )
        await self.store.cosigned(status, latest, cosignature.line())
        log.info(
            "witness %s cosigned checkpoint %d",
            endpoint.key.name,
            latest.tree_size,
            extra={"witness": endpoint.verifier_key, "tree_size": latest.tree_size},
        )
        return None


def _conflict_problem(answer: Conflict, old: int, latest: Checkpoint) -> str | None:
    """What a 409 says that resending cannot mend, or None (start from the witness's size)."""
    if answer.size == old:
        return (
            f"the witness refuses checkpoint {latest.tree_size}: it cosigned another tree of "
            f"size {old} of this log (a fork)"
        )
    if answer.size > latest.tree_size:
        return (
            f"the witness cosigned a tree of {answer.size} of this log, beyond its latest "
            f"checkpoint {latest.tree_size}: the log was truncated or rolled back"
        )
    return None
