"""Kubernetes pods → a runtime report, and reading the pods through the Kubernetes API.

The mapping reads a PodList exactly as the API (or ``kubectl get pods -o json``) gives it:
pods are grouped into apps by a label (``app.kubernetes.io/name`` unless told otherwise); each
pod is one instance, running the image of its app container. The app container is the one named
like the app, else the pod's first container: init containers and native sidecars
(``spec.initContainers``) never count, and classic sidecars count only when the app container
is not named like the app and the sidecar comes first. The digest is the container's
``status.containerStatuses[].imageID`` with the runtime's prefix taken off
(``docker-pullable://repo@sha256:…``, ``docker.io/library/nginx@sha256:…``, ``sha256:…`` all
become ``sha256:<64 hex>``). A pod that cannot be reported is skipped, with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from ledger.domain.names import NAME_PATTERN
from ledger.reporters.report import Instance, RuntimeReport, Workload, now

APP_LABEL = "app.kubernetes.io/name"
_DIGEST_AT_END = re.compile(r"(?:^|[@/:])(sha256:[0-9a-f]{64})$")
FINISHED = ("Succeeded", "Failed")

Pod = Mapping[str, Any]


class Skipped(msgspec.Struct, frozen=True):
    """A pod left out of the report, and why."""

    pod: str
    reason: str


class Reading(msgspec.Struct, frozen=True):
    """A report made from pods, and the pods it leaves out."""

    report: RuntimeReport
    skipped: tuple[Skipped, ...]


def image_digest(image_id: str) -> str | None:
    """``sha256:<64 hex>`` from a container status's ``imageID`` whatever the runtime's
    prefix, or None when it holds no digest (empty while the image is being pulled)."""
    found = _DIGEST_AT_END.search(image_id.strip())
    return found.group(1) if found else None


def app_container(pod: Pod, app: str) -> str | None:
    """The name of the pod's app container: the one named like the app, else the first."""
    names = [str(c.get("name")) for c in pod.get("spec", {}).get("containers") or []]
    if app in names:
        return app
    return names[0] if names else None


def read_pods(
    pods: Iterable[Pod],
    *,
    env: str,
    reporter: str,
    app_label: str = APP_LABEL,
    observed_at: str | None = None,
) -> Reading:
    """The report of everything the pods run in ``env``, by app, and the pods skipped."""
    by_app: dict[str, list[Instance]] = {}
    skipped: list[Skipped] = []
    for pod in pods:
        outcome = _instance(pod, app_label)
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        else:
            app, instance = outcome
            by_app.setdefault(app, []).append(instance)
    workloads = tuple(
        Workload(app=app, instances=tuple(sorted(found, key=lambda i: i.id)))
        for app, found in sorted(by_app.items())
    )
    report = RuntimeReport(
        reporter=reporter,
        env=env,
        observed_at=observed_at or now(),
        complete=True,
        workloads=workloads,
    )
    return Reading(report=report, skipped=tuple(skipped))


def pods_of(document: Any) -> list[Pod]:
    """The pods of a PodList (or a ``kind: List`` of pods, or one Pod) as kubectl prints it."""
    if not isinstance(document, Mapping):
        raise ValueError("not a Kubernetes object: expected a PodList")
    if document.get("kind") == "Pod":
        return [document]
    items = document.get("items")
    if not isinstance(items, list):
        raise ValueError(f"not a PodList: kind {document.get('kind')!r} has no items")
    return [item for item in items if isinstance(item, Mapping) and _is_pod(item)]


def parse_pod_list(text: str | bytes) -> list[Pod]:
    """The pods of ``kubectl get pods -o json`` output."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None
    return pods_of(document)


def _is_pod(item: Mapping[str, Any]) -> bool:
    return bool(item.get("kind", "Pod") == "Pod")


def _instance(pod: Pod, app_label: str) -> tuple[str, Instance] | Skipped:
    metadata = pod.get("metadata") or {}
    name = str(metadata.get("name") or "?")
    app = (metadata.get("labels") or {}).get(app_label)
    status = pod.get("status") or {}
    if app is None:
        return Skipped(name, f"no {app_label} label")
    if not re.fullmatch(NAME_PATTERN, str(app)):
        return Skipped(name, f"label {app_label}={app!r} is not an app name of the ledger")
    if status.get("phase") in FINISHED:
        return Skipped(name, f"{status['phase'].lower()}: runs no more")
    container = app_container(pod, app)
    state = _status_of(status, container)
    digest = image_digest(str(state.get("imageID") or ""))
    if digest is None:
        return Skipped(name, f"container {container!r} has no image digest yet")
    started = (state.get("state") or {}).get("running", {}).get("startedAt")
    instance = Instance(id=name, artifact_digest=digest, started_at=started or _pod_start(status))
    return str(app), instance


def _status_of(status: Mapping[str, Any], container: str | None) -> Mapping[str, Any]:
    for state in status.get("containerStatuses") or []:
        if state.get("name") == container:
            return dict(state)
    return {}


def _pod_start(status: Mapping[str, Any]) -> str | None:
    start = status.get("startTime")
    return str(start) if start else None
