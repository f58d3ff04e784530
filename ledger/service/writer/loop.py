"""The writer thread: it takes the queued commands in batches, one batch at a time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from ledger.service.writer.replies import Pending

Batch = list[Pending]


class WriterThread:
    """Drains the queue into batches of at most ``batch_max`` commands, each handed to
    ``process`` before the next is taken; ``None`` in the queue stops it."""

    def __init__(self, process: Callable[[Batch], None], batch_max: int) -> None:
        self.process = process
        self.batch_max = batch_max
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()

    def put(self, pending: Pending) -> None:
        self._queue.put(pending)

    def close(self, timeout: float | None = None) -> None:
        """Finish the queued commands, then stop (waiting at most ``timeout`` seconds)."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            self.process(batch)

    def _next_batch(self) -> Batch | None:
        """The commands queued now, at least one (waiting for it); None once closed."""
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < self.batch_max:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # the stop comes after this batch
                break
            batch.append(item)
        return batch
