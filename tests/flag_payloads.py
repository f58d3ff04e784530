"""The flag services' webhooks for the tests: their published examples (tests/fixtures/unleash,
flagsmith and launchdarkly, each with its source and licence), and each tool's way of proving
that it sent them (Unleash's Authorization header, Flagsmith's and LaunchDarkly's HMAC)."""

from __future__ import annotations

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


LD_PROJECT = "example-project"  # the audit log entry example's target:
LD_ENV = "production"  # proj/example-project:env/production:flag/example-flag
LD_FLAG = "example-flag"


def launchdarkly_flag_entry(
    on: bool = True, rollout: list[dict[str, int]] | None = None, entry_id: str | None = None
) -> Payload:
    """The audit log entry example of LaunchDarkly's API reference (``AuditLogEntryRep``) as
    a member's change in the app sends it: the schema's placeholders (``kind``, ``accesses``,
    ``title``, ``currentVersion``) filled in for its target flag turned on or off in
    ``production``, without the example's API token and authorized app; ``rollout`` sets the
    default rule to a percentage rollout (``Rollout.variations``)."""
    entry = payload("launchdarkly", "audit-log-entry")
    del entry["token"], entry["app"]
    [resource] = entry["target"]["resources"]
    verb = "turned on the flag" if on else "turned off the flag"
    actions = ["updateOn"] if rollout is None else ["updateOn", "updateFallthrough"]
    flag = launchdarkly_current_version(entry["name"], on, rollout)
    site = flag["environments"][LD_ENV]["_site"]["href"]
    member = entry["member"]
    entry |= {
        "_id": entry_id or entry["_id"],
        "kind": "flag",
        "accesses": [{"action": action, "resource": resource} for action in actions],
        "titleVerb": verb,
        "title": f"[{member['firstName']} {member['lastName']}](mailto:{member['email']})"
        f" {verb} [{entry['target']['name']}](https://app.launchdarkly.com{site})",
        "currentVersion": flag,
    }
    return entry


def launchdarkly_current_version(
    name: str, on: bool, rollout: list[dict[str, int]] | None
) -> Payload:
    """The FeatureFlag example of the OpenAPI document as the entry's flag: its key and name,
    and its one environment's settings as ``production``'s, turned on or off."""
    flag = payload("launchdarkly", "feature-flag")
    [settings] = flag["environments"].values()
    settings["on"] = on
    settings["_site"]["href"] = f"/{LD_PROJECT}/{LD_ENV}/features/{LD_FLAG}"
    if rollout is not None:
        settings["fallthrough"] = {"rollout": {"variations": rollout}}
    flag |= {"key": LD_FLAG, "name": name, "environments": {LD_ENV: settings}}
    return flag
