"""GitHub's deployments as deploys, and their statuses as the end of a rollout.

A deployment deploys the newest succeeded build of its commit that this connector recorded;
until there is one it waits (and is deployed once the build is recorded). Its release is kept
under the deployment's id, so that a status of that deployment finds it. A deployment deploys
to every instance at once, unless its payload asks for a canary:
``{"ledger": {"strategy": "canary", "steps": [10, 50]}}``; GitHub's ``success`` then completes
the rollout and ``failure``/``error`` fail it."""

from __future__ import annotations

from typing import Any

from ledger.connectors.github_names import actor_of, app_of, command, env_of
from ledger.connectors.github_payloads import (
    Deployment,
    DeploymentEvent,
    DeploymentStatusEvent,
    decoded,
)
from ledger.connectors.models import Mapping
from ledger.connectors.translation import Changes, Lookup, Skipped
from ledger.domain import commands as c

ROLLOUT_ENDS = {"success": "completed", "failure": "failed", "error": "failed"}
"""The deployment states that end a rollout; the others (queued, pending, in_progress,
inactive) change nothing."""
OPTIONS = ("strategy", "steps")  # what a deployment's payload may say under "ledger"


async def deployment(body: bytes, mapping: Mapping, lookup: Lookup) -> Changes | Skipped:
    """A deployment created: a deploy of its commit's build (which it may wait for)."""
    payload = decoded(body, DeploymentEvent, "deployment")
    deployed, event = payload.deployment, f"deployment.{payload.action}"
    if payload.action != "created":
        reason = f"deployment {deployed.id} was {payload.action}: only created ones deploy"
        return Skipped(event=event, outcome="ignored", reason=reason)
    place = await _place(event, payload, mapping, lookup)
    if isinstance(place, Skipped):
        return place
    app, env = place
    made = await lookup.release_of(app, env, str(deployed.id))
    if made is not None:
        reason = f"deployment {deployed.id} made release v{made.version} of {app}/{env} already"
        return Skipped(event=event, outcome="ignored", reason=reason, app=app, env=env)
    sha = deployed.sha.lower()
    build = await lookup.build_of_commit(app, sha)
    actor, kind = actor_of(deployed.creator, payload.sender)
    commands: list[c.AnyCommand] = []
    if build is not None:
        commands.append(_deploy(app, env, build, deployed))
    return Changes(
        event=event, commands=commands, actor=actor, actor_kind=kind, app=app, env=env,
        wait_for_build=build is None, commit=sha, reference=str(deployed.id),
    )  # fmt: skip


async def deployment_status(body: bytes, mapping: Mapping, lookup: Lookup) -> Changes | Skipped:
    """A deployment's status: success completes the rollout of the release it made, failure
    and error fail it; a release that rolled out at once is complete already."""
    payload = decoded(body, DeploymentStatusEvent, "deployment_status")
    deployed, state = payload.deployment, payload.deployment_status.state
    event = f"deployment_status.{state}"
    ending = ROLLOUT_ENDS.get(state)
    if ending is None:
        reason = (
            f"deployment {deployed.id} is {state}: only success, failure and error end a rollout"
        )
        return Skipped(event=event, outcome="ignored", reason=reason)
    place = await _place(event, payload, mapping, lookup)
    if isinstance(place, Skipped):
        return place
    app, env = place
    release = await lookup.release_of(app, env, str(deployed.id))
    if release is None:
        reason = f"deployment {deployed.id} made no release of {app}/{env} through this connector"
        return Skipped(event=event, outcome="ignored", reason=reason, app=app, env=env)
    if ending == "completed" and release.status != "rolling_out":
        reason = (
            f"release v{release.version} of {app}/{env} is {release.status}: nothing to complete"
        )
        return Skipped(event=event, outcome="ignored", reason=reason, app=app, env=env)
    progress = command(
        c.ProgressRollout, app=app, env=env, version=release.version, status=ending,
        reason=payload.deployment_status.description or None,
    )  # fmt: skip
    actor, kind = actor_of(payload.deployment_status.creator, payload.sender)
    return Changes(event=event, commands=[progress], actor=actor, actor_kind=kind, app=app, env=env)


async def _place(
    event: str, payload: DeploymentEvent | DeploymentStatusEvent, mapping: Mapping, lookup: Lookup
) -> tuple[str, str] | Skipped:
    """The app and environment a deployment is made to."""
    app = await app_of(event, payload.repository, mapping, lookup)
    if isinstance(app, Skipped):
        return app
    env = env_of(event, app, payload.deployment.environment, mapping)
    return env if isinstance(env, Skipped) else (app, env)


def _deploy(app: str, env: str, build: str, deployed: Deployment) -> c.Deploy:
    of = deployed.ref or deployed.sha[:12]
    description = deployed.description or f"GitHub deployment {deployed.id} of {of}"
    return command(
        c.Deploy, app=app, env=env, build_id=build, description=description,
        **_options(deployed.payload),
    )  # fmt: skip


def _options(payload: dict[str, Any] | str | None) -> dict[str, Any]:
    """How the deployment asks to roll out (its payload's ``ledger`` object), if it does."""
    asked = payload.get("ledger") if isinstance(payload, dict) else None
    if not isinstance(asked, dict):
        return {}
    return {name: asked[name] for name in OPTIONS if name in asked}
