"""The flag services' webhooks for the tests: their published examples (tests/fixtures/unleash,
flagsmith and launchdarkly, each with its source and licence), and each tool's way of proving
that it sent them (Unleash's Authorization header, Flagsmith's and LaunchDarkly's HMAC)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
Payload = dict[str, Any]
SIGNATURE_HEADERS = {"flagsmith": "X-Flagsmith-Signature", "launchdarkly": "X-LD-Signature"}


@cache
def raw(tool: str, name: str) -> bytes:
    """A fixture's bytes, as the tool's documentation prints them."""
    return (FIXTURES / tool / f"{name}.json").read_bytes()


def payload(tool: str, name: str) -> Payload:
    data: Payload = json.loads(raw(tool, name))
    return data


def body(data: Payload) -> bytes:
    return json.dumps(data, indent=1).encode()


def headers(tool: str, secret: str, sent: bytes) -> dict[str, str]:
    """The headers the tool sends with a body when it knows the connector's secret."""
    if tool == "unleash":
        return {"Content-Type": "application/json", "Authorization": secret}
    signature = hmac.new(secret.encode(), sent, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", SIGNATURE_HEADERS[tool]: signature}


def flagsmith_audit_log_entry() -> Payload:
    """The audit log entry of Flagsmith's documentation as its organisation webhooks send it
    (``_call_webhooks`` wraps the data with its event type)."""
    return {"data": payload("flagsmith", "audit-log-entry"), "event_type": "AUDIT_LOG_CREATED"}


LD_PROJECT = "my-project"  # the FeatureFlag example's parent: /api/v2/flags/my-project
LD_ENV = "my-environment"
LD_FLAG = "flag-key-123abc"


def launchdarkly_flag_entry(
    on: bool = True, rollout: list[dict[str, int]] | None = None, entry_id: str | None = None
) -> Payload:
    """A flag entry as LaunchDarkly's API reference describes one: the webhook sample of the
    documentation (its envelope and member), for the FeatureFlag example of the OpenAPI
    document turned on or off in ``my-environment`` (``currentVersion``), with the access,
    title verb and target resource such an entry names (``proj/<p>:env/<e>:flag/<f>``);
    ``rollout`` sets the default rule to a percentage rollout (``Rollout.variations``)."""
    entry = payload("launchdarkly", "webhook-sample")
    flag = payload("launchdarkly", "feature-flag")
    resource = f"proj/{LD_PROJECT}:env/{LD_ENV}:flag/{LD_FLAG}"
    verb = "turned on the flag" if on else "turned off the flag"
    site = flag["environments"][LD_ENV]["_site"]["href"]
    flag["environments"][LD_ENV]["on"] = on
    actions = ["updateOn"]
    if rollout is not None:
        flag["environments"][LD_ENV]["fallthrough"] = {"rollout": {"variations": rollout}}
        actions.append("updateFallthrough")
    member = "[Reese Applebaum](mailto:refapp@launchdarkly.com)"
    entry |= {
        "_id": entry_id or entry["_id"],
        "kind": "flag",
        "name": flag["name"],
        "accesses": [{"action": action, "resource": resource} for action in actions],
        "titleVerb": verb,
        "title": f"{member} {verb} [{flag['name']}](https://app.launchdarkly.com{site})"
        f" in `{flag['environments'][LD_ENV]['_environmentName']}`",
        "target": copy.deepcopy(entry["target"]) | {"name": flag["name"], "resources": [resource]},
        "currentVersion": flag,
    }
    return entry
