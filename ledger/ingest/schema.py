"""A CDEvent as it arrives: its context, its subject, the content of the types the ledger
takes, and the keys of ``customData`` the ledger reads. Unknown fields are ignored, so later
0.x versions of a type decode as long as the fields the ledger needs keep their shape."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta, Struct

from ledger.domain.events import Pipeline
from ledger.domain.text import Storable

Id = Annotated[Storable, Meta(min_length=1, max_length=2048)]
Source = Annotated[Storable, Meta(min_length=1, max_length=512)]
CDType = Annotated[Storable, Meta(min_length=1, max_length=256)]
ChainId = Annotated[str, Meta(pattern=r"^[\x21-\x7e]{1,128}$")]
Timestamp = Annotated[datetime, Meta(tz=True)]
Commit = Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{4,64}$")]


class CDContext(Struct, frozen=True, kw_only=True, rename="camel"):
    specversion: Annotated[Storable, Meta(min_length=1, max_length=64)]
    id: Id
    source: Source
    type: CDType
    timestamp: Timestamp
    chain_id: ChainId | None = None


class CDSubject(Struct, frozen=True, kw_only=True):
    id: Id
    source: Storable | None = None
    content: dict[str, Any]


class CDEvent(Struct, frozen=True, kw_only=True, rename="camel"):
    """A CDEvent (any type): context, subject and optional custom data."""

    context: CDContext
    subject: CDSubject
    custom_data: Any = None
    custom_data_content_type: Storable | None = None


class EnvironmentRef(Struct, frozen=True, kw_only=True):
    id: Id
    source: Storable | None = None


class ServiceContent(Struct, frozen=True, kw_only=True, rename="camel"):
    environment: EnvironmentRef
    artifact_id: Id


class BuildContent(Struct, frozen=True, kw_only=True, rename="camel"):
    artifact_id: Id | None = None


class ConfigHints(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    set: dict[Storable, Storable] = {}
    unset: list[Storable] = []
    secret: list[Storable] = []


class Hints(Struct, frozen=True, kw_only=True):
    """The keys of ``customData`` the ledger reads; any others are left alone."""

    app: Storable | None = None
    commit: Commit | None = None
    branch: Storable | None = None
    pipeline: Pipeline | None = None
    config: ConfigHints | None = None
    reason: Storable | None = None
