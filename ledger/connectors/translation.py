"""What a receiver of one tool does with a delivery: verify it by the tool's scheme, name it
(its delivery id, its event), and translate it into the ledger's commands, or say why not.

Each tool's receiver is a module of this package registered in ``ledger.connectors.kinds``;
receivers are pure but for ``Lookup``, which answers what the ledger already knows."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal, Protocol

from msgspec import Struct, field

from ledger.connectors.models import Mapping
from ledger.domain.commands import AnyCommand
from ledger.domain.events import ActorKind, BuildRecorded, Via
from ledger.domain.model import Release
from ledger.domain.names import NAME_PATTERN

_NAME = re.compile(NAME_PATTERN)


class Delivery(Struct, frozen=True, kw_only=True):
    """A request a tool sent to a connector's receiver URL."""

    connector: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: datetime


class BadSignature(Exception):
    """The delivery is not signed (or authenticated) with the connector's secret."""


class Malformed(Exception):
    """The delivery is not what the tool sends (not JSON, a field missing): answered 400."""


class Changes(Struct, frozen=True, kw_only=True):
    """The commands a delivery asks for, in order, and who asked, as the tool says."""

    event: str
    commands: list[AnyCommand]
    actor: str
    actor_kind: ActorKind = "ci"
    app: str | None = None
    env: str | None = None
    wait_for_build: bool = False
    """A command names a build the ledger does not know yet: the delivery waits for it
    (outcome ``waiting``) and is handled again once the build is recorded."""
    commit: str | None = None  # what the delivery waits for, when it waits
    builds: list[tuple[str, str, str]] = field(default_factory=list)
    """(app, commit, build_id) of builds this delivery records, for later deliveries that
    name a build by its commit (GitHub deployments)."""
    reference: str | None = None
    """The tool's id of the release this delivery makes (a GitHub deployment's id), for later
    deliveries about it (``Lookup.release_of``)."""


class Skipped(Struct, frozen=True, kw_only=True):
    """A delivery that asks nothing of the ledger (a ping), or whose names it cannot map."""

    event: str
    outcome: Literal["ignored", "unmapped"]
    reason: str
    app: str | None = None
    env: str | None = None


class Lookup(Protocol):
    """What a receiver may ask of the ledger while it translates."""

    async def build_of_commit(self, app: str, commit: str) -> str | None:
        """The newest succeeded build of ``commit`` recorded through this connector."""
        ...

    async def app_exists(self, app: str) -> bool: ...

    async def build_named(self, app: str, build_id: str) -> BuildRecorded | None:
        """The build recorded under that id, by whomever recorded it."""
        ...

    async def release_of(self, app: str, env: str, reference: str) -> Release | None:
        """The release (as it is now) that a delivery of this connector made under the tool's
        ``reference`` (``Changes.reference``)."""
        ...

    async def build_of_artifact(self, app: str, digest: str) -> str | None:
        """The build of ``app`` that produced the artifact ``digest``, whatever recorded it."""
        ...

    async def any_build_of_commit(self, app: str, commit: str) -> str | None:
        """The newest succeeded build of ``commit`` of ``app``, whatever recorded it."""
        ...

    async def current_release(self, app: str, env: str) -> Release | None:
        """The release that runs in the environment (rolling out or succeeded), if any."""
        ...


class Receiver(Protocol):
    """One tool's receiver."""

    kind: Via
    scopes: frozenset[str]
    """The scopes its commands are decided with (the connector is the principal)."""

    def verify(self, secret: str, delivery: Delivery) -> None:
        """Raise BadSignature unless the delivery carries the tool's proof of the secret."""
        ...

    def delivery_id(self, delivery: Delivery) -> str:
        """The tool's id of this delivery (the same when the tool sends it again)."""
        ...

    async def translate(
        self, delivery: Delivery, mapping: Mapping, lookup: Lookup
    ) -> Changes | Skipped:
        """The delivery as the ledger's commands, or why there are none."""
        ...


def mapped(name: str | None, fixed: str | None, renames: dict[str, str]) -> str | None:
    """A tool's name as the ledger's: fixed by the mapping, renamed by it, else itself when it
    is a valid name (None: unmapped; a rename to "" unmaps a name on purpose)."""
    if fixed is not None:
        return fixed
    if name is None:
        return None
    if name in renames:
        return renames[name] or None
    lowered = name.lower()
    return lowered if _NAME.fullmatch(lowered) else None
