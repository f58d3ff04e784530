"""What the writer measures: commit time, batch sizes, events, conflicts and failed commits."""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric


class WriterMetrics:
    """What the writer measures, kept out of any registry until a server exposes it."""

    def __init__(self) -> None:
        self.commit_seconds = Histogram(
            "ledger_commit_seconds", "Time to durably save one group-commit batch", registry=None
        )
        self.batch_commands = Histogram(
            "ledger_group_commit_commands",
            "Commands saved per group-commit transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=None,
        )
        self.events = Counter("ledger_events_appended", "Events appended", registry=None)
        self.conflicts = Counter(
            "ledger_commit_conflicts", "Batches re-decided after a version conflict", registry=None
        )
        self.failed_commits = Counter(
            "ledger_commit_failures", "Batches the store failed to save", registry=None
        )

    def collect(self) -> list[Metric]:
        return [
            m
            for c in (
                self.commit_seconds,
                self.batch_commands,
                self.events,
                self.conflicts,
                self.failed_commits,
            )
            for m in c.collect()
        ]
