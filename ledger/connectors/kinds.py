"""The receiver of each kind of connector."""

from __future__ import annotations

from ledger.connectors.argocd import ArgoCD
from ledger.connectors.translation import Receiver

RECEIVERS: dict[str, Receiver] = {}
"""Each tool's receiver by the connector kind it serves (filled as receivers are written)."""
RECEIVERS["argocd"] = ArgoCD()
