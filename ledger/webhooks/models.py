"""Wire shapes of the webhook routes, and which history items a webhook wants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from ledger.domain.commands import Name
from ledger.domain.text import UNSTORABLE, Storable
from ledger.wire.shapes import HistoryItem, HistoryKind

Format = Literal["slack", "json"]
State = Literal["active", "failing", "paused"]
Url = Annotated[
    str, Meta(pattern=rf"^https?://[^\s/?#@{UNSTORABLE}]+(/[^\s{UNSTORABLE}]*)?$", max_length=2048)
]
Secret = Annotated[Storable, Meta(min_length=16, max_length=256)]
FAILED_ROLLOUTS = ("aborted", "failed")


def is_failure(item: HistoryItem) -> bool:
    """Rollbacks, aborted or failed rollouts, and denied commands: what on-call wants to see."""
    if item.kind in ("rollback", "denied"):
        return True
    return item.kind == "rollout" and item.data.get("status") in FAILED_ROLLOUTS


class WebhookFilter(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which changes a webhook gets; an item matches when every given condition holds."""

    app: Name | None = None
    env: Name | None = None
    kind: Annotated[list[HistoryKind], Meta(min_length=1, max_length=10)] | None = None
    failures_only: bool = False

    def matches(self, item: HistoryItem) -> bool:
        return (
            (self.app is None or item.app == self.app)
            and (self.env is None or item.env == self.env)
            and (self.kind is None or item.kind in self.kind)
            and (not self.failures_only or is_failure(item))
        )


class NewWebhook(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """POST /v1/webhooks: where to send which changes, in which format."""

    url: Url
    format: Format = "json"
    secret: Secret | None = None
    filter: WebhookFilter = msgspec.field(default_factory=WebhookFilter)


class WebhookFields(Struct, kw_only=True):
    """What a webhook holds in every form: stored, listed and created."""

    id: str
    url: str
    format: Format
    filter: WebhookFilter
    position: int
    created_at: datetime
    created_by: str
    delivered_at: datetime | None = None
    failing_since: datetime | None = None
    paused_at: datetime | None = None
    last_error: str | None = None


class WebhookView(WebhookFields, kw_only=True):
    """A webhook as listed: never its secret, and its URL shortened (it may hold a token)."""

    state: State


class WebhookCreated(WebhookView, kw_only=True):
    """The answer to POST /v1/webhooks: the only time the secret is shown."""

    secret: str


class WebhookList(Struct, kw_only=True):
    webhooks: list[WebhookView]
