"""What the ledger knows that a receiver may ask while it translates, whatever path recorded
it: the build that produced an artifact (the event store's index of artifacts: exact and at
once), a build of a commit (the builds in the history view), and the release an environment
runs (its release line in the event store)."""

from __future__ import annotations

import msgspec

from ledger.domain.artifacts import ArtifactIndex
from ledger.domain.decisions import default_build_id
from ledger.domain.model import Build, Environment
from ledger.domain.names import artifact_id, build_id, environment_id
from ledger.domain.releases import Release
from ledger.eventstore.application import LedgerStore
from ledger.sql.database import Database
from projections.sql import HISTORY

COMMIT_CANDIDATES = 20
"""Builds of one commit looked at, newest first (a commit rebuilt more often than this is
found by its newest builds)."""


def build_of_artifact(store: LedgerStore, app: str, digest: str) -> str | None:
    """The id of the build of ``app`` that produced ``digest``: the one the index of artifacts
    names, else the build recorded without an id (whose id its digest gives)."""
    indexed = store.load(artifact_id(app, digest))
    if isinstance(indexed, ArtifactIndex):
        return indexed.build_id
    build = store.load(build_id(app, default_build_id(digest)))
    if isinstance(build, Build) and build.recorded.artifact.digest == digest:
        return build.recorded.build_id
    return None


async def build_of_commit(database: Database, app: str, commit: str) -> str | None:
    """The id of the newest succeeded build of ``app`` recorded with ``commit`` (else the newest
    of any status, which a deploy then refuses by name), as the history view lists builds."""
    rows = await database.fetch(
        f"SELECT data FROM {HISTORY} WHERE app = $1 AND kind = 'build' AND data LIKE $2 "
        f"ORDER BY position DESC LIMIT {COMMIT_CANDIDATES}",
        app, f'%"commit":"{commit}"%',
    )  # fmt: skip
    builds = [msgspec.json.decode(row["data"], type=_Build) for row in rows]
    found = [b for b in builds if b.commit == commit]
    succeeded = [b for b in found if b.status == "succeeded"]
    newest = next(iter(succeeded or found), None)
    return None if newest is None else newest.build_id


class _Build(msgspec.Struct):
    """What the history keeps of a recorded build that a lookup by commit reads."""

    build_id: str
    commit: str
    status: str


def release_of(store: LedgerStore, app: str, env: str) -> Release | None:
    """The release that runs in the environment: its newest rolling out or succeeded one."""
    state = store.load(environment_id(app, env))
    return state.current() if isinstance(state, Environment) else None
