"""The index of artifacts: which digests a build of the app produced, one small stream per
(app, digest), so a digest seen running is known to be recorded whatever its build's id."""

from __future__ import annotations

from ledger.domain.chain import GENESIS
from ledger.domain.events import ArtifactIndexed
from ledger.domain.stream import Stream


class ArtifactIndex(Stream, kw_only=True):
    """An artifact of the app: its digest and the build first recorded with it."""

    digest: str
    build_id: str


def indexed(event: ArtifactIndexed) -> ArtifactIndex:
    """The artifact's state after its one event."""
    return ArtifactIndex(
        id=event.originator_id,
        version=0,
        last_hash=GENESIS,
        app=event.app,
        digest=event.digest,
        build_id=event.build_id,
    )
