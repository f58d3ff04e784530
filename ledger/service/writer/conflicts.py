"""A conflict with another writer (another replica) that saved the same streams first: the
commands of the batch are decided again, each on its own, on fresh state."""

from __future__ import annotations

import random
import time

from eventsourcing.persistence import IntegrityError

from ledger.service.writer.metrics import WriterMetrics

CONFLICT_RETRIES = 20


class Conflicts:
    """When a failed save is retried, and the pause before each retry."""

    def __init__(self, metrics: WriterMetrics, retries: int = CONFLICT_RETRIES) -> None:
        self.metrics = metrics
        self.retries = retries

    def retried(self, error: Exception, attempt: int) -> bool:
        """Whether a save that failed with ``error`` on ``attempt`` is to be decided again;
        if so, after a pause."""
        if not isinstance(error, IntegrityError) or attempt >= self.retries:
            return False
        self.metrics.conflicts.inc()
        # another writer won the race; a short random pause keeps two from racing in step
        time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        return True
