"""The ledger's events: the contract of what is stored. Past tense, explicit, versioned.

Schema evolution follows msgspec's rules: a new field gets a default, an existing field never
changes type. Fields equal to their default are left out of the stored JSON (omit_defaults), so
adding such a field later leaves every stored event's bytes, and so its hash, unchanged. A change
that cannot follow them bumps ``class_version`` and adds an upcaster."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from ledger.domain.text import UNSTORABLE, Storable

ActorKind = Literal["ci", "human", "system"]
Via = Literal[
    "http", "nats", "cli", "cdevents", "github", "argocd", "unleash", "flagsmith", "launchdarkly"
]
BuildStatus = Literal["succeeded", "failed"]
ReleaseStatus = Literal["rolling_out", "succeeded", "aborted", "failed", "superseded"]
Strategy = Literal["all", "canary"]
ReleaseCause = Literal["deploy", "promote", "rollback", "config"]
RuntimeStatus = Literal["in_sync", "drifted", "not_running", "unknown"]


class LedgerEvent(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What every stored event carries: stream position, who, how, when, and the chain link."""

    class_version: ClassVar[int] = 1
    kind: ClassVar[str | None]
    """The kind of change the history shows it as; None: bookkeeping that history leaves out."""
    cloudevent_type: ClassVar[str | None]
    """Its CloudEvents type (a CDEvents type where one fits); None: never published."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime  # recorded_at: the ledger's clock
    event_id: UUID
    app: str
    env: str | None = None
    actor: str
    actor_kind: ActorKind
    authenticated: bool = False
    via: Via = "http"
    reason: str | None = None
    occurred_at: datetime  # the client's clock (defaults to recorded_at)
    correlation_id: str | None = None
    traceparent: str | None = None  # W3C Trace Context of the write, as the writer sent it
    tracestate: str | None = None
    prev_hash: str
    hash_scheme: int = 1
    """How the event's hash is computed (``ledger.domain.chain``): 1 for the events stored
    before the field existed (which leave it out), 2 (RFC 8785 canonical JSON of the event),
    3 for new ones (RFC 8785 canonical JSON of the event with its secret values committed)."""
    committed_keys: tuple[str, ...] = ()
    """The config keys whose values the event's hash covers by commitment, not in plain text:
    those secret when the event was made (``ledger.domain.commitments``)."""
    commitment_salt: str | None = None
    """The random salt (64 hex digits) of those commitments: stored, never shown or hashed."""

    def history_kind(self) -> str | None:
        """The kind of change this event is (the class's ``kind`` unless the event says more)."""
        return self.kind


class AppCreated(LedgerEvent, frozen=True, kw_only=True):
    kind: ClassVar[str | None] = "app"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-app.created.0.1.0"

    description: str | None = None


Digest = Annotated[str, Meta(min_length=1, max_length=300, pattern=rf"^[^\s{UNSTORABLE}]+$")]
Short = Annotated[Storable, Meta(min_length=1, max_length=256)]
Url = Annotated[Storable, Meta(max_length=2048)]


class Artifact(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    digest: Digest
    url: Url | None = None


class Pipeline(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Short
    run_id: Short
    url: Url | None = None


class BuildRecorded(LedgerEvent, frozen=True, kw_only=True):
    kind: ClassVar[str | None] = "build"
    cloudevent_type: ClassVar[str | None] = "dev.cdevents.build.finished.0.3.0"

    build_id: str
    commit: str
    branch: str | None = None
    artifact: Artifact
    stack: str | None = None
    status: BuildStatus
    pipeline: Pipeline | None = None
    committed_at: datetime | None = None
    finished_at: datetime | None = None


class GateFacts(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How a release passed the gates: the request its approvers let through, the freeze
    windows an admin overrode, and the policy in force."""

    policy: str | None = None
    request_id: str | None = None
    requested_at: datetime | None = None
    approved_by: tuple[str, ...] = ()
    overrode: tuple[str, ...] = ()


class ReleaseFacts(Struct, frozen=True, kw_only=True):
    """A release as created: what it pins and how it rolls out."""

    version: int
    build_id: str | None
    commit: str | None
    artifact_digest: str | None
    config_version: int
    status: ReleaseStatus
    rollout_percent: int
    strategy: Strategy = "all"
    steps: tuple[int, ...] = ()
    description: str | None = None
    rollback_of: int | None = None
    promoted_from: str | None = None


class ConfigChanged(LedgerEvent, frozen=True, kw_only=True):
    """Config is immutable per release: a change is a new config version and a new release."""

    kind: ClassVar[str | None] = "config"
    cloudevent_type: ClassVar[str | None] = "dev.cdevents.environment.modified.0.3.0"

    set: dict[str, str]
    unset: tuple[str, ...] = ()
    secret_keys: tuple[str, ...] = ()
    release: ReleaseFacts
    gates: GateFacts | None = None


class ReleaseCreated(LedgerEvent, frozen=True, kw_only=True):
    """A deploy, a promotion or a rollback made a new release."""

    # The kind is its cause (history_kind); a release of a build is published as the CDEvents
    # service event of what it did to the service (ledger.wire.cloudevents), one of no build as:
    kind: ClassVar[str | None] = "deploy"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-release.created.0.1.0"

    cause: ReleaseCause
    release: ReleaseFacts
    restored_config: dict[str, str] | None = None
    restored_secret_keys: tuple[str, ...] | None = None
    forced: bool = False
    crossed_migrations: tuple[str, ...] = ()
    gates: GateFacts | None = None

    def history_kind(self) -> str | None:
        """deploy, promote or rollback: what made the release."""
        return self.cause


class RolloutProgressed(LedgerEvent, frozen=True, kw_only=True):
    kind: ClassVar[str | None] = "rollout"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-rollout.progressed.0.1.0"

    version: int
    percent: int
    status: ReleaseStatus


class FlagChanged(LedgerEvent, frozen=True, kw_only=True):
    kind: ClassVar[str | None] = "flag"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-flag.changed.0.1.0"

    flag: str
    enabled: bool
    rollout_percent: int | None = None


class MigrationApplied(LedgerEvent, frozen=True, kw_only=True):
    kind: ClassVar[str | None] = "migration"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-migration.applied.0.1.0"

    migration_id: str
    schema_version: str
    reversible: bool
    description: str | None = None


class CommandDenied(LedgerEvent, frozen=True, kw_only=True):
    """A command the policy refused: attempted changes stay visible."""

    kind: ClassVar[str | None] = "denied"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-command.denied.0.1.0"

    command: str
    detail: str
    gate: str | None = None  # scope, protection, promotion, freeze, evidence, approval
    policy: str | None = None  # the policy version that refused it


class ObservedInstance(Struct, frozen=True, kw_only=True):
    """One running instance a reporter saw: its name, what it runs, since when."""

    id: str
    artifact_digest: str
    started_at: datetime | None = None


class RuntimeObserved(LedgerEvent, frozen=True, kw_only=True):
    """A reporter saw other artifacts (or instance counts) of an app in an environment than it
    reported last; a report that changes nothing is no event."""

    kind: ClassVar[str | None] = "runtime"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-runtime.observed.0.1.0"

    reporter: str
    observed_at: datetime
    complete: bool = True
    instances: tuple[ObservedInstance, ...] = ()
    unrecorded: tuple[str, ...] = ()  # digests no build of the app produced, when reported


class OldRelease(Struct, frozen=True):
    version: int
    artifact_digest: str


class DriftFacts(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What was expected to run and what was seen, and what the difference is."""

    status: RuntimeStatus
    expected_version: int | None = None
    expected: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    unrecorded_artifacts: tuple[str, ...] = ()
    old_releases: tuple[OldRelease, ...] = ()
    other_artifacts: tuple[str, ...] = ()  # recorded builds never released here


class DriftDetected(LedgerEvent, frozen=True, kw_only=True):
    """The environment's runtime went drifted or not running (or drifted another way)."""

    kind: ClassVar[str | None] = "runtime"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-runtime.drift-detected.0.1.0"

    drift: DriftFacts


class DriftResolved(LedgerEvent, frozen=True, kw_only=True):
    """What runs matches the release line again (or nothing tells otherwise any more)."""

    kind: ClassVar[str | None] = "runtime"
    cloudevent_type: ClassVar[str | None] = "dev.cdeventsx.ledger-runtime.drift-resolved.0.1.0"

    drift: DriftFacts
    was: RuntimeStatus


class EventRef(Struct, frozen=True):
    originator_id: UUID
    originator_version: int


class IdempotencyRecorded(LedgerEvent, frozen=True, kw_only=True):
    """The first result of a command sent with an idempotency key, kept to answer repeats."""

    kind: ClassVar[str | None] = None
    cloudevent_type: ClassVar[str | None] = None

    key: str
    request_digest: str
    response: str
    refs: tuple[EventRef, ...]


class ArtifactIndexed(LedgerEvent, frozen=True, kw_only=True):
    """A build recorded under an id of its own produced the digest (what runs is checked by it)."""

    kind: ClassVar[str | None] = None
    cloudevent_type: ClassVar[str | None] = None

    digest: str
    build_id: str


class Snapshot(Struct, frozen=True, kw_only=True):
    """An aggregate's state at a version, so long streams load fast."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    state: bytes


EVENTS: tuple[type[LedgerEvent], ...] = (
    AppCreated,
    BuildRecorded,
    ConfigChanged,
    ReleaseCreated,
    RolloutProgressed,
    FlagChanged,
    MigrationApplied,
    CommandDenied,
    IdempotencyRecorded,
    ArtifactIndexed,
    RuntimeObserved,
    DriftDetected,
    DriftResolved,
)
"""Every event type the ledger stores."""

ENVIRONMENT_EVENTS = (
    ConfigChanged,
    ReleaseCreated,
    RolloutProgressed,
    FlagChanged,
    MigrationApplied,
)

RUNTIME_EVENTS = (RuntimeObserved, DriftDetected, DriftResolved)
