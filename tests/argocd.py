"""Argo CD notifications for the tests: the real Application of tests/fixtures/argocd, and the
body the ``release-ledger`` template (deploy/argocd/argocd-notifications-cm.yaml) renders from
an Application, built along the same paths and with the same defaults as the template reads
them (``FIELDS``; tests/unit/connectors/test_argocd_template.py holds the two together)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG_MAP = ROOT / "deploy" / "argocd" / "argocd-notifications-cm.yaml"
SECRET = ROOT / "deploy" / "argocd" / "argocd-notifications-secret.yaml"
APPLICATION = Path(__file__).parent / "fixtures" / "argocd" / "application.yaml"
ARGOCD_URL = "https://argocd.example.com/"  # context.argocdUrl of the ConfigMap
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"  # left out by the template
REVISION = "ea8759964626a583667a2bfd08f334ec2070040a"  # the fixture's synced revision

AppPath = tuple[str, ...]
FIELDS: dict[str, tuple[AppPath, Any]] = {
    "app.name": (("metadata", "name"), None),
    "app.namespace": (("metadata", "namespace"), None),
    "app.uid": (("metadata", "uid"), None),
    "app.project": (("spec", "project"), None),
    "app.labels": (("metadata", "labels"), {}),
    "app.annotations": (("metadata", "annotations"), {}),
    "destination": (("spec", "destination"), None),
    "revision": (("status", "operationState", "syncResult", "revision"), ""),
    "syncRevision": (("status", "sync", "revision"), ""),
    "images": (("status", "summary", "images"), []),
    "operation.phase": (("status", "operationState", "phase"), ""),
    "operation.message": (("status", "operationState", "message"), ""),
    "operation.startedAt": (("status", "operationState", "startedAt"), ""),
    "operation.finishedAt": (("status", "operationState", "finishedAt"), ""),
    "operation.initiatedBy": (("status", "operationState", "operation", "initiatedBy"), {}),
    "health": (("status", "health", "status"), ""),
}
"""Each field of the body (dotted) and the path of the Application it is read from (``.app.…``),
with the value the template gives when the path is missing (None: toJson's null)."""
COMPUTED = ("id", "event", "url")
"""The fields the template computes: ``<uid>/<event>/<revision>/<finishedAt>``; the event from
the phase and health; ``<argocdUrl>/applications/<name>``."""


@cache
def _fixture() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(APPLICATION.read_text())
    return loaded


def application() -> dict[str, Any]:
    """A copy of the real Application, for a test to change."""
    return copy.deepcopy(_fixture())


def config_map() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CONFIG_MAP.read_text())
    return loaded


def template_body() -> str:
    """The Go template of the release-ledger webhook's body."""
    template = yaml.safe_load(config_map()["data"]["template.release-ledger"])
    body: str = template["webhook"]["release-ledger"]["body"]
    return body


def read(app: dict[str, Any], path: AppPath, default: Any) -> Any:
    """The value at ``path`` of the Application, or the default when a part is missing."""
    value: Any = app
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return copy.deepcopy(default)
        value = value[key]
    return copy.deepcopy(value)


def body_of(app: dict[str, Any], argocd_url: str = ARGOCD_URL) -> dict[str, Any]:
    """The body Argo CD sends for this Application."""
    fields = {name: read(app, path, default) for name, (path, default) in FIELDS.items()}
    fields["app.annotations"].pop(LAST_APPLIED, None)
    phase, health = fields["operation.phase"], fields["health"]
    event = "other"
    if phase in ("Error", "Failed"):
        event = "sync-failed"
    elif health == "Degraded":
        event = "health-degraded"
    elif (phase, health) == ("Succeeded", "Healthy"):
        event = "deployed"
    parts = (fields["app.uid"], event, fields["revision"], fields["operation.finishedAt"])
    body: dict[str, Any] = {
        "id": "/".join(parts),
        "event": event,
        "url": f"{argocd_url.removesuffix('/')}/applications/{fields['app.name']}",
    }
    for name, value in fields.items():
        *parents, last = name.split(".")
        node = body
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = value
    return body


def now() -> str:
    """An RFC 3339 time of now, as Argo CD writes it."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def synced(
    app: dict[str, Any],
    *,
    revision: str = REVISION,
    images: list[str] | None = None,
    phase: str = "Succeeded",
    health: str = "Healthy",
    finished_at: str | None = None,
    message: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Application after a sync of ``revision``: its images, phase, health and labels."""
    status = app["status"]
    operation = status["operationState"]
    operation["syncResult"]["revision"] = operation["operation"]["sync"]["revision"] = revision
    status["sync"]["revision"] = revision
    operation["phase"], status["health"]["status"] = phase, health
    operation["startedAt"] = operation["finishedAt"] = finished_at or now()
    if message is not None:
        operation["message"] = message
    if images is not None:
        status["summary"]["images"] = images
    app["metadata"]["labels"].update(labels or {})
    return app
