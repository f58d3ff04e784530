"""Queued commands and their answers: a thread's future is answered at once, an event loop's
with the rest of its batch, in one wake-up of that loop."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Future

from ledger.domain.commands import AnyCommand, Context
from ledger.wire.shapes import WriteResult

Outcome = WriteResult | BaseException
Answer = Future[WriteResult] | asyncio.Future[WriteResult]


class Pending:
    """A queued command, and the future its outcome goes to: a thread's, or an event loop's."""

    __slots__ = ("answered", "command", "context", "future", "loop")

    def __init__(
        self, command: AnyCommand, context: Context, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.command = command
        self.context = context
        self.loop = loop
        self.future: Answer = Future() if loop is None else loop.create_future()
        self.answered = False


def _settle(future: Answer, outcome: Outcome) -> None:
    if future.done():  # an event loop's caller may have given up (cancelled)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _settle_all(answers: list[tuple[Answer, Outcome]]) -> None:
    for future, outcome in answers:
        _settle(future, outcome)


class Replies:
    """The answers of a batch, held per event loop until the batch is done."""

    def __init__(self) -> None:
        self._outbox: dict[asyncio.AbstractEventLoop, list[tuple[Answer, Outcome]]] = {}

    def reply(self, pending: Pending, outcome: Outcome) -> None:
        """Answer a command once: a thread's future now, an event loop's with its batch."""
        if pending.answered:
            return
        pending.answered = True
        if pending.loop is None:
            _settle(pending.future, outcome)
        else:
            self._outbox.setdefault(pending.loop, []).append((pending.future, outcome))

    def deliver(self) -> None:
        """Hand each event loop the outcomes of its commands, in one call."""
        outbox, self._outbox = self._outbox, {}
        for loop, answers in outbox.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle_all, answers)
