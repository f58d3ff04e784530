"""Decisions on a Build stream: a build is recorded once, and again only with the same facts;
and on the index of artifacts its digest joins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.domain import commands as c
from ledger.domain.artifacts import ArtifactIndex
from ledger.domain.decisions.streams import new_event
from ledger.domain.errors import Conflict
from ledger.domain.events import ArtifactIndexed, BuildRecorded
from ledger.domain.model import Build
from ledger.domain.names import BUILD_ID_PATTERN, artifact_id, build_id, check_name


def build_id_of(cmd: c.RecordBuild) -> str:
    """The build id: given, else the one its artifact digest gives."""
    return cmd.build_id or default_build_id(cmd.artifact.digest)


def default_build_id(digest: str) -> str:
    """The id of a build recorded without one: the first 12 hex digits of its digest."""
    return digest.rpartition(":")[2][:12].lower()


def record_build(
    build: Build | None, cmd: c.RecordBuild, ctx: c.Context, now: datetime
) -> BuildRecorded | None:
    """A new build, or None when the same build was recorded before (idempotent)."""
    bid = check_name(build_id_of(cmd), "build_id", BUILD_ID_PATTERN)
    fields: dict[str, Any] = {
        "build_id": bid,
        "commit": cmd.commit.lower(),
        "branch": cmd.branch,
        "artifact": cmd.artifact,
        "stack": cmd.stack,
        "status": cmd.status,
        "pipeline": cmd.pipeline,
        "committed_at": cmd.committed_at,
        "finished_at": cmd.finished_at,
    }
    if build is not None:
        old = build.recorded
        if any(getattr(old, k) != v for k, v in fields.items()):
            raise Conflict(f"build {bid!r} was recorded before with other facts", field="build_id")
        return None
    return new_event(BuildRecorded, None, build_id(cmd.app, bid), ctx, now, app=cmd.app, **fields)


def index_artifact(
    index: ArtifactIndex | None, recorded: BuildRecorded, ctx: c.Context, now: datetime
) -> ArtifactIndexed | None:
    """The build's digest indexed for its app, once: None when it is indexed already, or when
    the build's id is the one its digest gives (that build is found by its digest alone)."""
    digest = recorded.artifact.digest
    if index is not None or recorded.build_id == default_build_id(digest):
        return None
    stream = artifact_id(recorded.app, digest)
    fields = {"digest": digest, "build_id": recorded.build_id}
    return new_event(ArtifactIndexed, None, stream, ctx, now, app=recorded.app, **fields)
