"""Every event type the ledger stores, from every module that defines some."""

from __future__ import annotations

from ledger.domain.events import EVENTS as CORE_EVENTS
from ledger.domain.events import LedgerEvent
from ledger.domain.gate_events import GATE_EVENTS

EVENTS: tuple[type[LedgerEvent], ...] = (*CORE_EVENTS, *GATE_EVENTS)
"""Every event type the ledger stores."""
