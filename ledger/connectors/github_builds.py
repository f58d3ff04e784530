"""GitHub's workflow runs as builds, and its releases as evidence on them.

A completed run of a workflow is the build ``gh-<run id>-<run attempt>`` of its head commit:
the same for every delivery of that run attempt, another for a re-run and for each workflow
that ran on the commit. GitHub sends no artifact, so its digest is ``git:<head sha>`` — unless
the run recorded its build itself under that id (with its artifact's real digest) before it
completed: that build stands, and deployments of the commit find it."""

from __future__ import annotations

import re

import msgspec

from ledger.connectors.github_names import actor_of, app_of, command
from ledger.connectors.github_payloads import ReleaseEvent, WorkflowRun, WorkflowRunEvent, decoded
from ledger.connectors.models import Mapping
from ledger.connectors.translation import Changes, Lookup, Skipped
from ledger.domain import commands as c

SHA = re.compile(r"^[0-9a-fA-F]{40,64}$")
NOT_BUILT = frozenset({"skipped"})
"""Conclusions of runs that built nothing (recorded as no build); any other but success is a
failed build."""


def build_id_of(run_id: int, attempt: int) -> str:
    """The ledger's id of the build a workflow run attempt made."""
    return f"gh-{run_id}-{attempt}"


def digest_of(sha: str) -> str:
    """The artifact digest of a build GitHub tells of: its commit (GitHub sends no artifact)."""
    return f"git:{sha}"


async def workflow_run(body: bytes, mapping: Mapping, lookup: Lookup) -> Changes | Skipped:
    """A completed run of a workflow the mapping names (all, when it names none): a build."""
    payload = decoded(body, WorkflowRunEvent, "workflow_run")
    run, event = payload.workflow_run, f"workflow_run.{payload.action}"
    name = _workflow_name(payload)
    if payload.action != "completed":
        reason = (
            f"run {run.id} of workflow {name!r} is {payload.action}: only completed runs are builds"
        )
        return Skipped(event=event, outcome="ignored", reason=reason)
    if mapping.workflows and not _named_by(payload, name) & set(mapping.workflows):
        reason = f"workflow {name!r} is not one of the connector's workflows"
        return Skipped(event=event, outcome="ignored", reason=reason)
    if run.conclusion in NOT_BUILT:
        reason = f"run {run.id} of workflow {name!r} was {run.conclusion}: nothing was built"
        return Skipped(event=event, outcome="ignored", reason=reason)
    app = await app_of(event, payload.repository, mapping, lookup)
    if isinstance(app, Skipped):
        return app
    build = _build(app, name, payload.workflow_run)
    recorded = await lookup.build_named(app, build.build_id or "")
    commands: list[c.AnyCommand] = [build]
    if recorded is not None and recorded.commit == build.commit:  # the run recorded it itself
        commands, build = [], msgspec.structs.replace(build, status=recorded.status)
    builds = [(app, build.commit, build.build_id or "")] if build.status == "succeeded" else []
    actor, _ = actor_of(run.triggering_actor, run.actor, payload.sender)
    return Changes(
        event=event, commands=commands, actor=actor, actor_kind="ci", app=app, builds=builds
    )


async def release(body: bytes, mapping: Mapping, lookup: Lookup) -> Changes | Skipped:
    """A published release of a commit this connector recorded a build of: evidence of type
    ``release`` on that build (the ledger keeps no other note on a build)."""
    payload = decoded(body, ReleaseEvent, "release")
    tagged, event = payload.release, f"release.{payload.action}"
    if payload.action != "published":
        reason = f"release {tagged.tag_name!r} was {payload.action}: only publishing is recorded"
        return Skipped(event=event, outcome="ignored", reason=reason)
    app = await app_of(event, payload.repository, mapping, lookup)
    if isinstance(app, Skipped):
        return app
    target = tagged.target_commitish.lower()
    build = await lookup.build_of_commit(app, target) if SHA.fullmatch(target) else None
    if build is None:
        reason = (
            f"release {tagged.tag_name!r} targets {tagged.target_commitish!r}, not the commit of "
            "a build this connector recorded"
        )
        return Skipped(event=event, outcome="ignored", reason=reason, app=app)
    evidence = command(
        c.RecordEvidence, app=app, build_id=build, type="release", status="passed",
        url=tagged.html_url, summary=tagged.tag_name,
    )  # fmt: skip
    actor, kind = actor_of(tagged.author, payload.sender)
    return Changes(event=event, commands=[evidence], actor=actor, actor_kind=kind, app=app)


def _workflow_name(payload: WorkflowRunEvent) -> str:
    workflow = payload.workflow
    run = payload.workflow_run
    return run.name or (workflow.name if workflow else "") or run.path or "workflow"


def _named_by(payload: WorkflowRunEvent, name: str) -> set[str]:
    """What names the run's workflow in the mapping: its name or its file's path."""
    workflow = payload.workflow
    return {name, payload.workflow_run.path, workflow.path if workflow else ""} - {""}


def _build(app: str, name: str, run: WorkflowRun) -> c.RecordBuild:
    """The build a run made: succeeded when the run succeeded, else failed."""
    sha = run.head_sha.lower()
    return command(
        c.RecordBuild, app=app, build_id=build_id_of(run.id, run.run_attempt), commit=sha,
        branch=run.head_branch, artifact={"digest": digest_of(sha)},
        status="succeeded" if run.conclusion == "success" else "failed",
        pipeline={"name": name, "run_id": f"{run.id}/{run.run_attempt}", "url": run.html_url},
        committed_at=run.head_commit.timestamp if run.head_commit else None,
        finished_at=run.updated_at,
    )  # fmt: skip
