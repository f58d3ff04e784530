"""The Argo CD receiver: the notifications argocd-notifications' webhook service sends with the
``release-ledger`` template (deploy/argocd/argocd-notifications-cm.yaml), authenticated by the
connector's secret as a bearer token (or in ``X-Ledger-Connector-Secret``).

- ``deployed``: a deploy of the build Argo CD synced: the build that produced one of the
  Application's images pinned by digest (exact), else the newest succeeded build of the synced
  commit, whatever recorded it. With no build known the delivery is unmapped: Argo CD sends a
  notification once, so builds are recorded before Argo CD deploys them. A build the
  environment runs already is not released again, and a sync that finished before the release
  that runs was made (a notification held up or sent again) is ignored. The images the ledger
  knows as the app's artifacts are reported as what runs there (reporter
  ``argocd:<connector>``).
- ``sync-failed`` and ``health-degraded``: the release rolling out in the environment is marked
  failed when it pins the synced commit or one of the images; otherwise nothing changes
  (ignored, saying why).
"""

from __future__ import annotations

import hmac
import re
from typing import Literal

from ledger.connectors.argocd_notification import (
    EVENTS,
    Image,
    Notification,
    decode,
    names_of,
    pinned,
)
from ledger.connectors.models import Mapping
from ledger.connectors.translation import BadSignature, Changes, Delivery, Lookup, Skipped
from ledger.domain import commands as c
from ledger.domain.events import ReleaseFacts, Via
from ledger.domain.releases import Release

SECRET_HEADER = "x-ledger-connector-secret"
MAX_TEXT = 4096
_INSTANCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,252}$")


class ArgoCD:
    """Argo CD's notifications as deploys, failed rollouts and what runs."""

    kind: Via = "argocd"
    scopes = frozenset({"deploy", "runtime:write"})

    def verify(self, secret: str, delivery: Delivery) -> None:
        offered = _offered(delivery.headers)
        if offered is None:
            raise BadSignature(
                "no 'Authorization: Bearer <secret>' or X-Ledger-Connector-Secret header: the "
                "release-ledger webhook service sends the connector's secret in one of them"
            )
        if not hmac.compare_digest(offered.encode(), secret.encode()):
            raise BadSignature("the secret Argo CD sent is not the connector's secret")

    def delivery_id(self, delivery: Delivery) -> str:
        return decode(delivery.body).id

    async def translate(
        self, delivery: Delivery, mapping: Mapping, lookup: Lookup
    ) -> Changes | Skipped:
        notification = decode(delivery.body)
        event = notification.event
        if event not in EVENTS:
            state = f"phase {notification.operation.phase}, health {notification.health}"
            reason = f"the ledger records Argo CD's {', '.join(EVENTS)}, not {event!r} ({state})"
            return Skipped(event=event, outcome="ignored", reason=reason)
        names = names_of(notification, mapping)
        if names.app is None or names.env is None:
            why = names.why or "unmapped"
            return Skipped(
                event=event, outcome="unmapped", reason=why, app=names.app, env=names.env
            )
        place = _Place(notification, names.app, names.env, f"argocd:{delivery.connector}")
        if event == "deployed":
            return await place.deployed(lookup)
        return await place.failed(lookup)


class _Place:
    """A notification of one app in one environment, and who tells it."""

    def __init__(self, notification: Notification, app: str, env: str, actor: str) -> None:
        self.notification = notification
        self.app = app
        self.env = env
        self.actor = actor

    async def deployed(self, lookup: Lookup) -> Changes | Skipped:
        """A deploy of the synced build (unless it runs already), and the images it runs."""
        known = await self._known_images(lookup)
        build = known[0][1] if known else await self._build_of_commits(lookup)
        if build is None:
            return self._skipped("unmapped", self._no_build())
        current = await lookup.current_release(self.app, self.env)
        if current is not None and current.build_id != build and self._before(current):
            return self._skipped("ignored", self._late(current))
        commands: list[c.AnyCommand] = []
        if current is None or current.build_id != build:
            commands.append(self._deploy(build))
        if known:
            commands.append(self._runtime([image for image, _ in known]))
        if not commands:
            assert current is not None
            return self._skipped("ignored", f"{self._where(current)} runs build {build} already")
        return self._changes(commands)

    async def failed(self, lookup: Lookup) -> Changes | Skipped:
        """The release rolling out marked failed, when it is the one Argo CD synced."""
        current = await lookup.current_release(self.app, self.env)
        if current is None or current.status != "rolling_out":
            now = "no release" if current is None else self._where(current)
            return self._skipped(
                "ignored", f"no release of {self.app} is rolling out in {self.env} ({now})"
            )
        if not self._pins(current):
            revision = self.notification.revision or self.notification.sync_revision
            pins = f"commit {current.commit} and artifact {current.artifact_digest}"
            return self._skipped(
                "ignored",
                f"{self._where(current)} pins {pins}, not Argo CD's revision {revision} or images",
            )
        failed = c.ProgressRollout(
            app=self.app, env=self.env, version=current.version, status="failed",
            reason=self._text(self._failure()),
        )  # fmt: skip
        return self._changes([failed])

    async def _known_images(self, lookup: Lookup) -> list[tuple[Image, str]]:
        """The images pinned by digest that the ledger knows as builds of the app."""
        found = []
        for image in dict.fromkeys(pinned(self.notification.images)):
            build = await lookup.build_of_artifact(self.app, image.digest)
            if build is not None:
                found.append((image, build))
        return found

    async def _build_of_commits(self, lookup: Lookup) -> str | None:
        for commit in self.notification.commits():
            build = await lookup.build_of_commit(self.app, commit)
            build = build or await lookup.any_build_of_commit(self.app, commit)
            if build is not None:
                return build
        return None

    def _deploy(self, build: str) -> c.Deploy:
        notification = self.notification
        initiator = notification.operation.initiated_by
        by = initiator.username if initiator and initiator.username else None
        said = f"Argo CD synced {notification.app.name} ({f'sync by {by}' if by else 'automated'})"
        link = f": {notification.url}" if notification.url else ""
        return c.Deploy(
            app=self.app, env=self.env, build_id=build, description=self._text(said + link)
        )

    def _runtime(self, images: list[Image]) -> c.ReportRuntime:
        """What Argo CD deployed, as a report of what runs (instances named by repository)."""
        instances = [
            c.InstanceReport(
                id=i.repository if _INSTANCE.fullmatch(i.repository) else i.digest,
                artifact_digest=i.digest,
            )
            for i in images
        ]
        return c.ReportRuntime(
            app=self.app, env=self.env, reporter=self.actor, instances=instances,
            observed_at=self.notification.finished_at(),
        )  # fmt: skip

    def _before(self, release: Release) -> bool:
        """Whether Argo CD finished this sync before the release that runs was made: a
        notification that comes late (sent again, or held up) is no longer what runs."""
        finished = self.notification.finished_at()
        return finished is not None and finished < release.created_at

    def _late(self, release: Release) -> str:
        finished = self.notification.operation.finished_at
        return (
            f"Argo CD finished this sync at {finished}, before {self._where(release)} was "
            f"released at {release.created_at.isoformat()}: it is no longer what runs"
        )

    def _pins(self, release: ReleaseFacts) -> bool:
        digests = {image.digest for image in pinned(self.notification.images)}
        return release.commit in self.notification.commits() or (release.artifact_digest in digests)

    def _failure(self) -> str:
        notification = self.notification
        if notification.event == "sync-failed":
            said = notification.operation.message or notification.operation.phase or "failed"
            return f"Argo CD sync of {notification.app.name} failed: {said}"
        return f"Argo CD reports {notification.app.name} {notification.health or 'Degraded'}"

    def _no_build(self) -> str:
        notification = self.notification
        images = ", ".join(notification.images) or "none"
        revision = notification.revision or notification.sync_revision or "none"
        return (
            f"no build of {self.app} is recorded with revision {revision} or one of the "
            f"images ({images}): record builds (POST /v1/apps/{self.app}/builds) before Argo "
            "CD deploys them"
        )

    def _where(self, release: ReleaseFacts) -> str:
        return f"{self.app} v{release.version} in {self.env} ({release.status})"

    def _skipped(self, outcome: Literal["ignored", "unmapped"], reason: str) -> Skipped:
        return Skipped(
            event=self.notification.event, outcome=outcome, reason=reason, app=self.app,
            env=self.env,
        )  # fmt: skip

    def _changes(self, commands: list[c.AnyCommand]) -> Changes:
        return Changes(
            event=self.notification.event, commands=commands, actor=self.actor,
            app=self.app, env=self.env,
        )  # fmt: skip

    @staticmethod
    def _text(text: str) -> str:
        return text[:MAX_TEXT]


def _offered(headers: dict[str, str]) -> str | None:
    """The secret the delivery offers: a bearer token, else the connector secret header."""
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get(SECRET_HEADER) or None
