"""Connectors end to end: a tool's real webhook payloads, signed as the tool signs them, sent
to a real `ledger serve` (one per module and backend, open mode) at the connector's receiver
URL; what the ledger made of them is read back over HTTP as its clients read it."""

from __future__ import annotations
