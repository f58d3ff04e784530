"""What a webhook receives: the body in its format, and the headers that sign it.

``json``: the event's CloudEvent (secrets redacted), as on NATS and GET /v1/events.
``slack``: a Block Kit message an incoming webhook posts to a channel: who, what, where,
which release and commit, a link to the diff, a link to the dashboard's page of a change
request, an emoji per kind; rollbacks and failures stand out. ``text`` carries the one-line
summary for notifications and old clients.
Either way, a change made in a trace (its write carried a W3C ``traceparent``) is delivered with
the ``traceparent`` and ``tracestate`` headers of that trace; the CloudEvent carries them as its
distributed tracing extension attributes too.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

import msgspec

from ledger.domain.secrets import Fingerprints
from ledger.eventstore.application import LedgerStore, read_batch
from ledger.service.messages import messages_of
from ledger.webhooks.models import is_failure
from ledger.wire.shapes import HistoryItem
from ledger.wire.tracecontext import TraceContext

CLOUDEVENTS_JSON = "application/cloudevents+json"
EMOJI = {
    "app": "🆕",
    "build": "📦",
    "config": "🔧",
    "flag": "🚩",
    "deploy": "🚀",
    "rollout": "📈",
    "migration": "🗄️",
    "rollback": "⏪",
    "promote": "⏩",
    "denied": "⛔",
    "request": "🙋",
}
FAILURE_EMOJI = "🚨"
SHORT_COMMIT = 7
SHORT_REQUEST = 8
REQUEST_PAGE = "/#/requests/"
"""The dashboard's page of a change request (GET / reads the id after the hash)."""


def signature(secret: str, body: bytes) -> str:
    """The X-Ledger-Signature value: sha256=<hex HMAC-SHA256 of the body with the secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Payload(msgspec.Struct, frozen=True):
    """A delivery's body, its media type, and the trace context headers of its event."""

    body: bytes
    content_type: str
    trace: dict[str, str]


def delivery_headers(secret: str, payload: Payload, position: int, hook_id: str) -> dict[str, str]:
    return {
        "Content-Type": payload.content_type,
        "User-Agent": "release-ledger-webhooks",
        "X-Ledger-Signature": signature(secret, payload.body),
        "X-Ledger-Delivery": str(position),
        "X-Ledger-Webhook": hook_id,
        **payload.trace,
    }


def cloudevent_payload(store: LedgerStore, position: int, fingerprints: Fingerprints) -> Payload:
    """The CloudEvent of the event at ``position`` (blocking: reads the log)."""
    messages = messages_of(store, read_batch(store, position - 1, 1), fingerprints)
    if not messages or messages[0].cloudevent.ledgerposition != position:
        raise LookupError(f"no published event at position {position}")
    cloudevent = messages[0].cloudevent
    return Payload(msgspec.json.encode(cloudevent), CLOUDEVENTS_JSON, cloudevent.trace_headers())


def trace_headers(store: LedgerStore, position: int) -> dict[str, str]:
    """The trace context headers of the event at ``position`` (blocking: reads the log)."""
    batch = read_batch(store, position - 1, 1)
    if not batch or batch[0][0] != position:
        return {}
    event = batch[0][1]
    return TraceContext(traceparent=event.traceparent, tracestate=event.tracestate).headers()


def _escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _release(item: HistoryItem) -> dict[str, Any]:
    release = item.data.get("release")
    return release if isinstance(release, dict) else {}


def diff_url(item: HistoryItem, base_url: str) -> str | None:
    """The diff of the release an item made against the one before it."""
    version = _release(item).get("version")
    if not isinstance(version, int) or version < 2 or item.env is None:
        return None
    path = f"/v1/apps/{item.app}/envs/{item.env}/releases/{version - 1}/diff/{version}"
    return base_url + path


def request_of(item: HistoryItem) -> str | None:
    """The change request an item is a step of, or whose release it made."""
    gates = item.data.get("gates")
    found = item.data.get("request_id") if item.kind == "request" else None
    if found is None and isinstance(gates, dict):
        found = gates.get("request_id")
    return found if isinstance(found, str) and found else None


def request_url(item: HistoryItem, base_url: str) -> str | None:
    """The dashboard's page of the item's change request."""
    request_id = request_of(item)
    return None if request_id is None else base_url + REQUEST_PAGE + quote(request_id, safe="")


def _links(item: HistoryItem, base_url: str) -> list[str]:
    """The message's links, in mrkdwn: the release's diff, the change request's page."""
    links = []
    diff = diff_url(item, base_url)
    if diff:
        version = _release(item)["version"]
        links.append(f"<{diff}|diff v{version - 1} → v{version}>")
    request = request_url(item, base_url)
    if request:
        links.append(f"<{request}|request {str(request_of(item))[:SHORT_REQUEST]}>")
    return links


def _headline(item: HistoryItem) -> str | None:
    where = f"{item.app} {item.env}" if item.env else item.app
    if item.kind == "rollback":
        return f"{EMOJI['rollback']} Rollback in {where}"
    if item.kind == "denied":
        return f"{EMOJI['denied']} Denied in {where}"
    if is_failure(item):
        return f"{FAILURE_EMOJI} Rollout {item.data.get('status')} in {where}"
    return None


def _fields(item: HistoryItem) -> list[dict[str, str]]:
    where = f"{item.app} / {item.env}" if item.env else item.app
    facts = [("Who", f"{item.actor} ({item.actor_kind})"), ("Where", where)]
    release = _release(item)
    if release.get("version"):
        rollback_of = release.get("rollback_of")
        note = f" (rollback to v{rollback_of})" if rollback_of else ""
        facts.append(("Release", f"v{release['version']}{note}"))
    if release.get("build_id"):
        facts.append(("Build", str(release["build_id"])))
    if release.get("commit"):
        facts.append(("Commit", f"`{str(release['commit'])[:SHORT_COMMIT]}`"))
    if item.reason:
        facts.append(("Reason", item.reason))
    return [{"type": "mrkdwn", "text": f"*{k}*\n{_escape(v)}"[:2000]} for k, v in facts]


def slack_message(item: HistoryItem, base_url: str) -> dict[str, Any]:
    """A Block Kit message for one change (an incoming webhook's JSON body)."""
    headline = _headline(item)
    summary = _escape(item.summary)
    line = f"*{summary}*" if headline else f"{EMOJI.get(item.kind, '•')} {summary}"
    blocks: list[dict[str, Any]] = []
    if headline:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": headline[:150]}})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line[:3000]}})
    blocks.append({"type": "section", "fields": _fields(item)[:10]})
    when = f"{item.kind} · position {item.position} · {item.recorded_at:%Y-%m-%d %H:%M:%S} UTC"
    text = " · ".join([*_links(item, base_url), when])
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    return {"text": item.summary, "blocks": blocks}
