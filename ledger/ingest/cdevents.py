"""CDEvents onto the ledger's commands: a pure mapping from one CDEvent to a plan.

The app is the name in the artifact's package URL, the environment the event's environment
id, the build the artifact's digest (or version); the README's "CDEvents ingest" section has
the whole table. Nothing here does I/O: the plan is carried out by ``ledger.ingest.service``.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any, TypeVar

import msgspec
from msgspec import Struct
from packageurl import PackageURL

from ledger.domain import commands as c
from ledger.domain.decisions import build_id_of
from ledger.domain.events import Artifact, Pipeline
from ledger.domain.names import BUILD_ID_PATTERN, NAME_PATTERN
from ledger.ingest.problems import Malformed, UnknownType, Unmappable
from ledger.ingest.schema import BuildContent, CDEvent, Hints, ServiceContent

S = TypeVar("S")

ACCEPTED = (
    ("build", "finished"),
    ("artifact", "published"),
    ("service", "deployed"),
    ("service", "upgraded"),
    ("service", "rolledback"),
    ("environment", "modified"),
)
_TYPE = re.compile(r"dev\.cdevents\.([a-z]+)\.([a-z]+)\.(\d+)\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:([0-9a-fA-F]{32,})")
_ARTIFACT_ID = "subject.content.artifactId"
_VCS_COMMIT = re.compile(r"@([0-9a-fA-F]{7,64})$")


class RecordBuildPlan(Struct, frozen=True, kw_only=True):
    build: c.RecordBuild


class DeployPlan(Struct, frozen=True, kw_only=True):
    build: c.RecordBuild  # recorded first when the ledger has not seen the artifact
    deploy: c.Deploy


class RollbackPlan(Struct, frozen=True, kw_only=True):
    app: str
    env: str
    digest: str  # the release to restore is the newest earlier one that ran this artifact
    reason: str


class ConfigPlan(Struct, frozen=True, kw_only=True):
    change: c.ChangeConfig


class NothingToRecord(Struct, frozen=True, kw_only=True):
    note: str


Plan = RecordBuildPlan | DeployPlan | RollbackPlan | ConfigPlan | NothingToRecord


def accepted_type(cd_type: str) -> tuple[str, str] | None:
    """(subject, predicate) of an accepted type, any 0.x version; None for a CDEvents type the
    ledger does not record (acknowledged, so a broker may send every event); else UnknownType."""
    match = _TYPE.fullmatch(cd_type)
    if match is None:
        raise UnknownType(
            f"{cd_type} is not a CDEvents type (dev.cdevents.<subject>.<predicate>.<version>)",
            field="type",
        )
    if (match[1], match[2]) not in ACCEPTED:
        return None
    if match[3] != "0":
        takes = ", ".join(f"{s}.{p}" for s, p in ACCEPTED)
        raise UnknownType(
            f"the ledger does not ingest {cd_type}; it takes dev.cdevents.{{{takes}}}.0.x",
            field="type",
        )
    return match[1], match[2]


def plan_of(event: CDEvent) -> Plan:
    """What the event asks of the ledger, validated; raises an IngestError when it cannot."""
    accepted = accepted_type(event.context.type)
    if accepted is None:
        return NothingToRecord(
            note=f"the ledger does not record {event.context.type}; nothing was recorded"
        )
    subject, predicate = accepted
    hints = _convert(event.custom_data if isinstance(event.custom_data, dict) else {}, Hints)
    if subject == "environment":
        return _environment_modified(event, hints)
    if subject == "service":
        return _service(event, predicate, hints)
    if subject == "build":
        raw = _content(event, BuildContent).artifact_id
        build = _build(event, hints, raw, _ARTIFACT_ID, from_ci=True, finished=True)
    else:  # artifact.published: the subject is the artifact
        build = _build(event, hints, event.subject.id, "subject.id", from_ci=True)
    return RecordBuildPlan(build=build)


def idempotency_key(event: CDEvent) -> str:
    """CloudEvents are unique by source and id: a re-delivery carries the same key."""
    return f"cloudevent:{event.context.source}:{event.context.id}"


def ingest_context(base: c.Context, event: CDEvent) -> c.Context:
    """The sender's context, marked as arriving through CDEvents at the event's time."""
    return msgspec.structs.replace(
        base,
        via="cdevents",
        occurred_at=event.context.timestamp,
        correlation_id=base.correlation_id or event.context.chain_id,
        idempotency_key=None,
    )


def ledger_name(value: str, field: str) -> str:
    """A name as the ledger spells names: lowercase, '.' and '_' as '-'; else Unmappable."""
    name = re.sub(r"[._]", "-", value.strip().lower())
    if not re.fullmatch(NAME_PATTERN, name):
        raise Unmappable(
            f"{value!r} does not fit the ledger's names {NAME_PATTERN} "
            "(even lowercased, with '.' and '_' as '-')",
            field=field,
        )
    return name


def _service(event: CDEvent, predicate: str, hints: Hints) -> Plan:
    content = _content(event, ServiceContent)
    env = ledger_name(content.environment.id, "subject.content.environment.id")
    source = event.context.source
    if predicate == "rolledback":
        app, purl = _artifact(content.artifact_id, _ARTIFACT_ID)
        reason = f"rolled back by {source}"
        return RollbackPlan(app=app, env=env, digest=purl.version or "", reason=reason)
    build = _build(event, hints, content.artifact_id, _ARTIFACT_ID)
    fields = {"app": build.app, "env": env, "build_id": build_id_of(build)}
    deploy = _command(c.Deploy, {}, **fields, reason=f"{predicate} by {source}")
    return DeployPlan(build=build, deploy=deploy)


def _environment_modified(event: CDEvent, hints: Hints) -> Plan:
    if hints.config is None:
        return NothingToRecord(
            note="environment.modified carries no config for the ledger "
            "(customData.app and customData.config); nothing was recorded"
        )
    if hints.app is None:
        raise Unmappable("customData.config needs customData.app", field="customData.app")
    if not hints.config.set and not hints.config.unset:
        raise Unmappable("customData.config sets or unsets nothing", field="customData.config")
    origins = {k: f"customData.config.{k}" for k in ("set", "unset", "secret")}
    change = _command(
        c.ChangeConfig,
        origins | {"reason": "customData.reason"},
        app=ledger_name(hints.app, "customData.app"),
        env=ledger_name(event.subject.id, "subject.id"),
        set=hints.config.set,
        unset=hints.config.unset,
        secret=hints.config.secret,
        reason=hints.reason or f"environment modified by {event.context.source}",
    )
    return ConfigPlan(change=change)


def _build(
    event: CDEvent,
    hints: Hints,
    raw: str | None,
    field: str,
    *,
    from_ci: bool = False,
    finished: bool = False,
) -> c.RecordBuild:
    """The build of the artifact the event names (a build that produced it succeeded). An
    event from CI is the build's provenance: its source is the pipeline, its chain the run."""
    app, purl = _artifact(raw, field, event.context.type)
    digest = _DIGEST.fullmatch(purl.version or "")
    pipeline = hints.pipeline
    if pipeline is None and from_ci:
        run = event.context.chain_id or event.context.id
        pipeline = Pipeline(name=event.context.source, run_id=run)
    return _command(
        c.RecordBuild,
        {"build_id": field, "commit": "customData.commit", "branch": "customData.branch"},
        app=app,
        build_id=digest[1][:12].lower() if digest else purl.version,
        commit=_commit(purl, digest[1] if digest else None, hints),
        branch=hints.branch,
        artifact=Artifact(digest=purl.version or "", url=raw),
        status="succeeded",
        pipeline=pipeline,
        finished_at=event.context.timestamp.astimezone(UTC) if finished else None,
    )


def _artifact(raw: str | None, field: str, cd_type: str = "") -> tuple[str, PackageURL]:
    """The app and the package URL of the artifact an event names."""
    if raw is None:
        raise Unmappable(
            f"{cd_type} names no artifact: the ledger takes the app and the build "
            "from the artifact's package URL",
            field=field,
        )
    try:
        purl = PackageURL.from_string(raw)
    except ValueError as error:
        raise Unmappable(
            f"not a package URL (pkg:type/name@version): {error}", field=field
        ) from None
    if purl.version is None:
        raise Unmappable(
            f"{raw!r} has no version: the ledger knows a build by its digest or version",
            field=field,
        )
    if not _DIGEST.fullmatch(purl.version) and not re.fullmatch(BUILD_ID_PATTERN, purl.version):
        raise Unmappable(
            f"version {purl.version!r} of {raw!r} is neither a digest nor a build id "
            f"({BUILD_ID_PATTERN})",
            field=field,
        )
    return ledger_name(purl.name, field), purl


def _commit(purl: PackageURL, digest_hex: str | None, hints: Hints) -> str:
    """customData.commit, else the vcs_url qualifier's commit, else a commit-like version,
    else (a placeholder, documented) the first 12 hex digits of the artifact digest."""
    vcs = _VCS_COMMIT.search(purl.qualifiers.get("vcs_url", ""))
    version = purl.version or ""
    if hints.commit:
        return hints.commit.lower()
    if vcs:
        return vcs[1].lower()
    if re.fullmatch(r"[0-9a-fA-F]{7,64}", version) and not version.isdigit():
        return version.lower()
    if digest_hex:
        return digest_hex[:12].lower()
    raise Unmappable(
        f"cannot tell the commit of {purl.name} {version}: send it as customData.commit",
        field="customData.commit",
    )


def _content(event: CDEvent, cls: type[S]) -> S:
    try:
        return msgspec.convert(event.subject.content, cls)
    except msgspec.ValidationError as error:
        raise Malformed(f"subject.content of {event.context.type}: {error}") from None


def _convert(data: dict[str, Any], cls: type[S]) -> S:
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as error:
        raise Unmappable(f"customData: {error}", field=_path("customData", error)) from None


def _command(cls: type[S], origins: dict[str, str], **fields: Any) -> S:
    """The command, validated as if it came over HTTP; an error names the event's field."""
    try:
        return msgspec.convert(msgspec.to_builtins(fields), cls)
    except msgspec.ValidationError as error:
        name = re.search(r"\$\.(\w+)", str(error))
        field = origins.get(name[1], name[1]) if name else "body"
        said = str(error).replace(f"`$.{name[1]}`", f"`{field}`") if name else str(error)
        raise Unmappable(said, field=field) from None  # the event's field, not the command's


def _path(prefix: str, error: msgspec.ValidationError) -> str:
    at = re.search(r"at `\$((?:\.\w+|\[\d+\])*)`", str(error))
    return prefix + (at[1] if at else "")
