"""Events as an older version stored them, before the boundary refused such strings: the test
sends a valid command through the writer, and the stored event carries the old text instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from ledger.eventstore.application import LedgerStore

NUL_VERSION = "v\x002"
STORED_AS = "v\ufffd2"
"""How the views show NUL_VERSION: NUL replaced by U+FFFD."""


@contextmanager
def storing_old_text(store: LedgerStore, **fields: str) -> Iterator[None]:
    """Meanwhile, each event the store saves gets ``fields`` (those it has) as given."""
    put = store.events.put

    def put_old(events: list[Any], **kwargs: Any) -> Any:
        for event in events:  # in place: the writer answers each command by its event
            for name, value in fields.items():
                if name in event.__struct_fields__:
                    msgspec.structs.force_setattr(event, name, value)
        return put(events, **kwargs)

    store.events.put = put_old  # type: ignore[method-assign]
    try:
        yield
    finally:
        store.events.put = put  # type: ignore[method-assign]
