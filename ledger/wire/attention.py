"""The wire shape of GET /v1/attention: what needs someone now, in one read, each list empty
when nothing does. Every field is always present (null when it does not apply). Fields may be
added, never renamed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from msgspec import Struct

from ledger.domain.commands import Name
from ledger.domain.events import OldRelease
from ledger.wire.gates import RequestView

WebhookState = Literal["failing", "paused"]
MAX_REQUESTS = 50
"""How many pending change requests an answer lists (the oldest); ``counts.requests`` has all."""


class AttentionFilter(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """?app= and ?env=: what an answer is narrowed to (absent: every app, every environment)."""

    app: Name | None = None
    env: Name | None = None

    def includes(self, app: str | None, env: str | None) -> bool:
        """Whether something of ``app`` in ``env`` concerns the filter; None on either side
        means every one (a webhook with no app filter carries every app's changes)."""
        return _either(self.app, app) and _either(self.env, env)


def _either(wanted: str | None, given: str | None) -> bool:
    return wanted is None or given is None or wanted == given


class DriftNeed(Struct, kw_only=True):
    """An environment where what runs is not what its release line says should run."""

    app: str
    env: str
    status: Literal["drifted", "not_running"]
    summary: str
    """One line: what differs ("1 instance runs an unrecorded artifact", "nothing runs")."""
    since: datetime | None
    """When the runtime stopped being in sync (null: not recorded)."""
    observed_at: datetime | None
    """The newest report of what runs there."""
    expected_version: int | None
    expected_artifact: str | None
    unrecorded_artifacts: list[str] = []
    """Digests running there that no recorded build produced."""
    old_releases: list[OldRelease] = []
    """Releases older than the expected one whose artifacts still run after the grace."""
    other_artifacts: list[str] = []
    """Recorded artifacts running there that were never released in this environment."""


class FrozenNeed(Struct, kw_only=True):
    """An environment inside a freeze window now, and when it thaws."""

    app: str
    env: str
    window: str
    start: datetime
    end: datetime
    """When the window (with the occurrences that follow it back to back) ends."""
    policy: str
    """The policy levels in force, e.g. "shop/prod v2 + */prod v1"."""
    reason: str | None = None


class WebhookNeed(Struct, kw_only=True):
    """A webhook whose deliveries fail (retried with backoff) or that is paused. Never its URL
    or secret: who may read may know that it fails, not where it sends."""

    id: str
    state: WebhookState
    lag: int
    """Events of the log after the last one it delivered or passed over."""
    position: int
    last_error: str | None = None
    """What went wrong, without the receiver: "HTTP 503", "no answer within 5s", or the
    kind of connection failure ("ClientConnectorError")."""
    failing_since: datetime | None = None
    paused_at: datetime | None = None
    delivered_at: datetime | None = None
    app: str | None = None
    """The app its filter delivers (null: every app); likewise ``env``."""
    env: str | None = None


class ConnectorNeed(Struct, kw_only=True):
    """A connector with failed deliveries in the last 24 hours: rejected (the signature did
    not verify), refused (the ledger refused a command) or unmapped. Never its secret."""

    name: str
    kind: str
    failures: int
    """Failed deliveries received in the last 24 hours."""
    last_failure_at: datetime
    last_failure: str
    """The newest failure's outcome: rejected, refused or unmapped."""
    last_delivery_at: datetime
    last_delivery: str
    """The newest delivery's outcome, failed or not ("recorded": it works again)."""
    last_reason: str | None = None
    """Why the newest failure failed, as the delivery's detail says it."""


class FollowerNeed(Struct, kw_only=True):
    """A follower of the log (the views, the NATS publisher, the checkpointer, a webhook's
    deliveries) behind the head by more than LEDGER_READY_MAX_LAG, or that passed events over."""

    name: str
    lag: int | None = None
    """Events behind the head (null: not owned by the answering process)."""
    position: int | None = None
    passed_over: list[int] = []
    """Positions of the events it could not handle and passed over (``ledger projections
    failures`` says why)."""


class AttentionCounts(Struct, kw_only=True):
    """How many of each there are (``requests``: all pending, beyond the ones listed)."""

    drift: int
    requests: int
    frozen: int
    webhooks: int
    connectors: int
    followers: int
    total: int


class Attention(Struct, kw_only=True):
    """What needs someone now (GET /v1/attention)."""

    position: int
    """The position of the log the views answering this include."""
    drift: list[DriftNeed]
    requests: list[RequestView]
    """Pending change requests not yet expired, oldest first, at most MAX_REQUESTS."""
    frozen: list[FrozenNeed]
    webhooks: list[WebhookNeed]
    connectors: list[ConnectorNeed]
    followers: list[FollowerNeed]
    counts: AttentionCounts


def attention(
    position: int,
    drift: list[DriftNeed],
    requests: tuple[list[RequestView], int],
    frozen: list[FrozenNeed],
    webhooks: list[WebhookNeed],
    connectors: list[ConnectorNeed],
    followers: list[FollowerNeed],
) -> Attention:
    """The answer, counted; ``requests``: the ones listed and how many are pending in all."""
    listed, pending = requests
    sizes = (len(drift), pending, len(frozen), len(webhooks), len(connectors), len(followers))
    names = ("drift", "requests", "frozen", "webhooks", "connectors", "followers")
    counts = AttentionCounts(**dict(zip(names, sizes, strict=True)), total=sum(sizes))
    return Attention(
        position=position, drift=drift, requests=listed, frozen=frozen, webhooks=webhooks,
        connectors=connectors, followers=followers, counts=counts,
    )  # fmt: skip
