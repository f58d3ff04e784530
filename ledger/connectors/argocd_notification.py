"""The body Argo CD sends: what the ``release-ledger`` template of argocd-notifications
(deploy/argocd/argocd-notifications-cm.yaml) renders from an Application when one of its
triggers fires, and the names of the ledger it maps to.

Argo CD sends no delivery id of its own: the template renders ``id`` from the Application's
uid, the event, the synced revision and the time its last operation finished, which stay the
same when Argo CD sends the same notification again."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, NamedTuple

import msgspec
from msgspec import Meta, Struct

from ledger.connectors.models import Mapping
from ledger.connectors.translation import Malformed, mapped
from ledger.domain.commands import RUNTIME_DIGEST_PATTERN
from ledger.domain.text import Storable, explained

EVENTS = ("deployed", "sync-failed", "health-degraded")
APP_LABEL = "ledger.release/app"
ENV_LABEL = "ledger.release/env"
"""The label (or annotation) of an Application that names its app or environment in the
ledger, unless the connector's mapping names another one (``app_label``/``env_label``)."""
DeliveryId = Annotated[Storable, Meta(min_length=1, max_length=512)]
_DIGEST = re.compile(r"@(" + RUNTIME_DIGEST_PATTERN.strip("^$") + r")$")
_COMMIT = re.compile(r"^[0-9a-f]{4,64}$")


class Application(Struct, frozen=True, kw_only=True):
    """The Application's own metadata (``.app.metadata``, ``.app.spec.project``)."""

    name: Storable
    namespace: str | None = None
    uid: str | None = None
    project: str | None = None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}

    def tagged(self, key: str) -> str | None:
        """The value of a label, else of an annotation, of that key."""
        return self.labels.get(key, self.annotations.get(key))


class Destination(Struct, frozen=True, kw_only=True):
    """Where Argo CD deploys the Application (``.app.spec.destination``)."""

    server: str | None = None
    namespace: str | None = None
    name: str | None = None


class Initiator(Struct, frozen=True, kw_only=True):
    username: Storable | None = None
    automated: bool = False


class Operation(Struct, frozen=True, kw_only=True, rename="camel"):
    """The Application's last operation (``.app.status.operationState``)."""

    phase: Storable | None = None
    message: Storable | None = None
    started_at: str | None = None
    finished_at: str | None = None
    initiated_by: Initiator | None = None


class Notification(Struct, frozen=True, kw_only=True, rename="camel"):
    """One notification: the event, the Application and what its last sync did."""

    id: DeliveryId
    event: Storable
    app: Application
    destination: Destination = Destination()
    revision: str | None = None  # .app.status.operationState.syncResult.revision
    sync_revision: str | None = None  # .app.status.sync.revision
    images: list[str] = []  # .app.status.summary.images
    operation: Operation = Operation()
    health: Storable | None = None  # .app.status.health.status
    url: Storable | None = None

    def commits(self) -> list[str]:
        """The revisions that may be commits: the synced one first, then the compared one."""
        revisions = (self.revision, self.sync_revision)
        found = [r.lower() for r in revisions if r and _COMMIT.fullmatch(r.lower())]
        return list(dict.fromkeys(found))

    def finished_at(self) -> datetime | None:
        """When the last operation finished (None: not said, or without a time zone)."""
        try:
            finished = datetime.fromisoformat(self.operation.finished_at or "")
        except ValueError:
            return None
        return finished if finished.tzinfo is not None else None


class Image(NamedTuple):
    """An image of the Application pinned by digest: its repository and digest."""

    repository: str
    digest: str


_decoder = msgspec.json.Decoder(Notification)


def decode(body: bytes) -> Notification:
    """The notification in a delivery's body, or Malformed saying what is wrong."""
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as error:
        raise Malformed(f"not a release-ledger notification: {explained(error)}") from None
    except msgspec.DecodeError as error:
        raise Malformed(f"the body is not JSON: {error}") from None


def pinned(images: list[str]) -> list[Image]:
    """The images named with a digest (``repo[:tag]@sha256:…``), in Argo CD's order."""
    found = []
    for image in images:
        match = _DIGEST.search(image)
        if match is not None:
            found.append(Image(_repository(image[: match.start()]), match.group(1)))
    return found


def _repository(name: str) -> str:
    """The image's name without its tag (a ``:`` after the last ``/`` starts the tag)."""
    head, _, last = name.rpartition("/")
    return f"{head}/{last.partition(':')[0]}" if head else last.partition(":")[0]


class Names(NamedTuple):
    """The app and environment a notification maps to; ``why`` says why one is missing."""

    app: str | None
    env: str | None
    why: str | None = None


def names_of(notification: Notification, mapping: Mapping) -> Names:
    """The app: the mapping's fixed app, else the label (or annotation) ``mapping.app_label``
    or ``ledger.release/app``, else the Application's name; the environment: the fixed env,
    else the label ``mapping.env_label`` or ``ledger.release/env``, else the destination
    namespace. The name found is renamed by ``mapping.apps``/``envs``."""
    application = notification.app
    app, app_source = _picked(
        application, mapping.app_label, APP_LABEL, (application.name, "its name")
    )
    env, env_source = _picked(
        application,
        mapping.env_label,
        ENV_LABEL,
        (notification.destination.namespace, "its destination namespace"),
    )
    names = Names(mapped(app, mapping.app, mapping.apps), mapped(env, mapping.env, mapping.envs))
    if names.app is None:
        return names._replace(why=_unmapped("app", app, app_source, application.name))
    if names.env is None:
        return names._replace(why=_unmapped("environment", env, env_source, application.name))
    return names


def _picked(
    application: Application,
    label: str | None,
    default_label: str,
    fallback: tuple[str | None, str],
) -> tuple[str | None, str]:
    """The name a label gives (the mapping's label, which must be there, else the default
    one), else the fallback; and where it came from."""
    if label is not None:
        return application.tagged(label), f"label or annotation {label!r}"
    tagged = application.tagged(default_label)
    if tagged is not None:
        return tagged, f"label or annotation {default_label!r}"
    return fallback


def _unmapped(what: str, name: str | None, source: str, application: str) -> str:
    if name is None:
        return f"Argo CD application {application!r} names no {what}: {source} is missing"
    return (
        f"the {what} {name!r} ({source}) of Argo CD application {application!r} is no ledger "
        "name, or the mapping maps it to none: name it with the connector's mapping"
    )
