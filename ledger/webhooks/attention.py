"""The webhooks that need someone: failing (retried with backoff) or paused. Shown without
their URL or secret, and with an error that does not name the receiver either."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ledger.webhooks.registry import Webhook
from ledger.wire.attention import AttentionFilter, WebhookNeed, WebhookState

_SAFE_ERROR = re.compile(r"HTTP [0-9]{3}|no answer within [0-9.]+s")
"""Errors that say nothing of the receiver: its status, or its silence."""
_ERROR_KIND = re.compile(r"[A-Z][A-Za-z0-9_]{0,79}")
"""An exception's class name, which a delivery's error starts with ("Name: message")."""
WITHHELD = "delivery failed"
"""What a failure shows whose kind cannot be told apart from where it went."""


def shown_error(error: str | None) -> str | None:
    """A delivery's error as a reader may see it: an HTTP status or a timeout as it is, and a
    connection failure by its kind alone ("ClientConnectorError"): its message names the
    receiver's host and port."""
    if error is None or _SAFE_ERROR.fullmatch(error):
        return error
    kind, separator, _ = error.partition(": ")
    return kind if separator and _ERROR_KIND.fullmatch(kind) else WITHHELD


def webhook_needs(hooks: Iterable[Webhook], head: int, where: AttentionFilter) -> list[WebhookNeed]:
    """The failing or paused webhooks whose filter can carry changes ``where`` names, with how
    far behind the log's ``head`` each is."""
    needs = []
    for hook in hooks:
        state = _state(hook)
        if state is None or not where.includes(hook.filter.app, hook.filter.env):
            continue
        needs.append(
            WebhookNeed(
                id=hook.id, state=state, lag=max(head - hook.position, 0), position=hook.position,
                last_error=shown_error(hook.last_error), failing_since=hook.failing_since,
                paused_at=hook.paused_at, delivered_at=hook.delivered_at, app=hook.filter.app,
                env=hook.filter.env,
            )
        )  # fmt: skip
    return needs


def _state(hook: Webhook) -> WebhookState | None:
    if hook.paused:
        return "paused"
    return "failing" if hook.failing_since else None
