"""The writer's cache of aggregates, by stream id: the streams its commands decide on."""

from __future__ import annotations

from collections import OrderedDict
from uuid import UUID

from ledger.domain.model import Stream

CACHE_SIZE = 10_000


class StreamCache(OrderedDict[UUID, Stream]):
    """The newest known state of up to ``size`` streams; the oldest cached go first."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        super().__init__()
        self.size = size

    def forget(self, stream_ids: set[UUID]) -> None:
        """Drop streams whose cached state was not saved."""
        for stream_id in stream_ids:
            self.pop(stream_id, None)

    def trim(self) -> None:
        while len(self) > self.size:
            self.popitem(last=False)
