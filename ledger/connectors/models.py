"""Wire shapes of connectors: registering one, how it maps names, and what it received."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from ledger.domain.commands import Name
from ledger.domain.names import NAME_PATTERN
from ledger.domain.text import Storable

Kind = Literal["github", "argocd", "unleash", "flagsmith", "launchdarkly"]
CONNECTOR_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
ConnectorName = Annotated[str, Meta(pattern=CONNECTOR_NAME_PATTERN)]
ToolName = Annotated[Storable, Meta(min_length=1, max_length=256)]
Rename = Annotated[str, Meta(pattern=f"^(?:{NAME_PATTERN[1:-1]})?$")]
"""The ledger's name for a tool's name, or "" to leave it unmapped (msgspec cannot tell
``Name | Literal[""]`` apart: both are strings)."""
Outcome = Literal["recorded", "waiting", "ignored", "unmapped", "refused", "rejected"]
"""What a delivery came to: recorded (commands answered), waiting (for something it needs,
e.g. a deployment's build), ignored (nothing to record: a ping), unmapped (names the ledger
cannot map), refused (a command was refused), rejected (its signature did not verify)."""


class Mapping(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """How the tool's names become apps and environments: the kind's default rule (e.g. a
    GitHub repository's name is the app), unless ``app``/``env`` fix one for every delivery,
    or ``apps``/``envs`` rename a tool's name (a name mapped to ``""`` is left unmapped)."""

    app: Name | None = None
    env: Name | None = None
    apps: Annotated[dict[ToolName, Rename], Meta(max_length=1000)] = {}
    envs: Annotated[dict[ToolName, Rename], Meta(max_length=1000)] = {}
    app_label: ToolName | None = None  # Argo CD: the label or annotation naming the app
    env_label: ToolName | None = None  # Argo CD: the label or annotation naming the env
    workflows: Annotated[list[ToolName], Meta(max_length=100)] = []
    """GitHub: the workflows (by name or file path) whose completed runs are builds; every
    workflow when empty."""


class NewConnector(Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Kind
    name: ConnectorName
    secret: Annotated[Storable, Meta(min_length=16, max_length=512)] | None = None
    """The shared secret the tool signs with (or sends as a bearer token); made when left out."""
    mapping: Mapping = Mapping()


class Counts(Struct, frozen=True, kw_only=True):
    received: int = 0
    recorded: int = 0
    duplicates: int = 0
    waiting: int = 0
    ignored: int = 0
    unmapped: int = 0
    refused: int = 0
    rejected: int = 0


class ConnectorView(Struct, kw_only=True):
    """A connector as listed: never its secret."""

    kind: str
    name: str
    receiver_url: str
    mapping: Mapping
    created_at: datetime
    created_by: str
    last_delivery_at: datetime | None = None
    last_outcome: str | None = None
    last_detail: str | None = None
    counts: Counts = Counts()


class ConnectorCreated(ConnectorView, kw_only=True):
    """The answer to registering a connector: the one time its secret is shown."""

    secret: str


class ConnectorList(Struct, kw_only=True):
    connectors: list[ConnectorView]


class DeliveryView(Struct, kw_only=True, omit_defaults=True):
    """One delivery a connector received and what it came to."""

    connector: str
    delivery_id: str
    event: str
    outcome: str
    received_at: datetime
    detail: str | None = None
    position: int | None = None
    app: str | None = None
    env: str | None = None


class DeliveryList(Struct, kw_only=True):
    items: list[DeliveryView]


class ReceiverAnswer(Struct, kw_only=True, omit_defaults=True):
    """The answer a tool gets: what its delivery came to in the ledger."""

    delivery_id: str
    outcome: str
    detail: str | None = None
    position: int | None = None
    results: list[dict[str, Any]] = []
    replayed: bool = False
