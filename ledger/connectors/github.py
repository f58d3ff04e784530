"""The GitHub receiver: a repository's (or an organisation's) webhook, verified by its
``X-Hub-Signature-256`` (HMAC-SHA256 of the body with the connector's secret), named by its
``X-GitHub-Delivery`` and ``X-GitHub-Event``.

It records completed workflow runs as builds and published releases as evidence on them
(``github_builds``), and deployments as deploys whose statuses end their rollouts
(``github_deployments``). A ping is answered "pong"; other events are ignored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gidgethub import BadRequest, ValidationFailure
from gidgethub.sansio import Event

from ledger.connectors.github_builds import release, workflow_run
from ledger.connectors.github_deployments import deployment, deployment_status
from ledger.connectors.models import Mapping
from ledger.connectors.translation import (
    BadSignature,
    Changes,
    Delivery,
    Lookup,
    Malformed,
    Skipped,
)
from ledger.domain.events import Via

SIGNATURE = "x-hub-signature-256"
DELIVERY = "x-github-delivery"
EVENT = "x-github-event"
JSON = "application/json"
MAX_DELIVERY_ID = 128
Translation = Callable[[bytes, Mapping, Lookup], Awaitable[Changes | Skipped]]
TRANSLATIONS: dict[str, Translation] = {
    "workflow_run": workflow_run,
    "deployment": deployment,
    "deployment_status": deployment_status,
    "release": release,
}


class GitHubReceiver:
    """Receives GitHub's webhook deliveries."""

    kind: Via = "github"
    scopes = frozenset({"build:write", "deploy"})

    def verify(self, secret: str, delivery: Delivery) -> None:
        """The body's HMAC-SHA256 with the secret is the signature, compared in constant time
        (an older ``X-Hub-Signature``, SHA-1, alone is not enough)."""
        if SIGNATURE not in delivery.headers:
            raise BadSignature("X-Hub-Signature-256 is missing: give the webhook the secret")
        try:
            Event.from_http(delivery.headers, delivery.body, secret=secret)
        except ValidationFailure as error:
            raise BadSignature(f"X-Hub-Signature-256 does not verify: {error}") from None
        except KeyError as error:
            raise Malformed(f"the delivery has no {error.args[0]} header") from None
        except BadRequest:
            pass  # not JSON: refused below
        if delivery.headers.get("content-type", "").split(";")[0].strip() != JSON:
            raise Malformed("set the webhook's content type to application/json")

    def delivery_id(self, delivery: Delivery) -> str:
        delivery_id = delivery.headers.get(DELIVERY, "")
        if not delivery_id or len(delivery_id) > MAX_DELIVERY_ID:
            raise Malformed(f"X-GitHub-Delivery must name the delivery (1 to {MAX_DELIVERY_ID})")
        return delivery_id

    async def translate(
        self, delivery: Delivery, mapping: Mapping, lookup: Lookup
    ) -> Changes | Skipped:
        event = delivery.headers.get(EVENT, "")
        if event == "ping":
            return Skipped(event=event, outcome="ignored", reason="pong")
        translation = TRANSLATIONS.get(event)
        if translation is None:
            known = ", ".join(TRANSLATIONS)
            reason = f"GitHub event {event!r} is not one the ledger records ({known})"
            return Skipped(event=event[:100] or "unknown", outcome="ignored", reason=reason)
        return await translation(delivery.body, mapping, lookup)


RECEIVER = GitHubReceiver()
