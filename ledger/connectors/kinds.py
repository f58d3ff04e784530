"""The receiver of each kind of connector."""

from __future__ import annotations

from ledger.connectors.argocd import ArgoCD
from ledger.connectors.flagsmith import RECEIVER as FLAGSMITH
from ledger.connectors.github import RECEIVER as GITHUB
from ledger.connectors.launchdarkly import RECEIVER as LAUNCHDARKLY
from ledger.connectors.translation import Receiver
from ledger.connectors.unleash import RECEIVER as UNLEASH

RECEIVERS: dict[str, Receiver] = {
    "github": GITHUB,
    "unleash": UNLEASH,
    "flagsmith": FLAGSMITH,
    "launchdarkly": LAUNCHDARKLY,
    "argocd": ArgoCD(),
}
"""Each tool's receiver by the connector kind it serves."""
