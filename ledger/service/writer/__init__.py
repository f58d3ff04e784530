"""Group commit: one writer thread decides queued commands in batches and saves each batch in
one transaction, so concurrent requests share a durable commit. A conflict with another writer
(another replica) reloads the streams and re-decides each command of the batch on its own.

The pieces, each with one job: ``loop`` (the thread draining the queue into batches),
``batch`` (deciding and committing a batch), ``saving`` and ``conflicts`` (the save, and what a
failed save leads to), ``snapshots``, ``cache``, ``replies`` (answering callers) and
``metrics``; ``group_commit`` puts them together as the ``Writer``."""

from ledger.service.writer.group_commit import Writer
from ledger.service.writer.metrics import WriterMetrics

__all__ = ["Writer", "WriterMetrics"]
