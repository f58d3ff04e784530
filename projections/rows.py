"""Rows of the view tables to and from the wire shapes (ledger.schemas)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from ledger.domain.model import Environment
from ledger.schemas import AppView, EnvSummary, FlagView, HistoryItem, ReleaseView, StateView
from projections.database import Row
from projections.projectors import EnvKey, state_view

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_flags = msgspec.json.Decoder(dict[str, FlagView])
_config = msgspec.json.Decoder(dict[str, str])
_data = msgspec.json.Decoder(dict[str, Any])
_release = msgspec.json.Decoder(ReleaseView)
_environment = msgspec.json.Decoder(Environment)


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC text that sorts like the instants it stands for (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def instant(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def app_row(app: AppView, position: int) -> tuple[object, ...]:
    return (app.name, app.description, timestamp(app.created_at), position)


def app_of(row: Row, envs: list[EnvSummary]) -> AppView:
    created_at = instant(row["created_at"])
    return AppView(
        name=row["name"], description=row["description"], created_at=created_at, envs=envs
    )


def state_row(key: EnvKey, position: int, state: Environment) -> tuple[object, ...]:
    view = state_view(state, position)
    return (
        *key,
        position,
        timestamp(view.updated_at) if view.updated_at else None,
        _json(view.release) if view.release else None,
        _json(view.config),
        _json(view.flags),
        view.schema_version,
        view.config_version,
        _json(state),
    )


def environment_of(row: Row) -> Environment:
    return _environment.decode(row["environment"])


def _release_of_json(text: str | None) -> ReleaseView | None:
    return None if text is None else _release.decode(text)


def _instant_or_none(text: str | None) -> datetime | None:
    return None if text is None else instant(text)


def state_of(row: Row) -> StateView:
    return StateView(
        app=row["app"],
        env=row["env"],
        release=_release_of_json(row["release"]),
        config=_config.decode(row["config"]),
        flags=_flags.decode(row["flags"]),
        schema_version=row["schema_version"],
        position=row["position"],
        config_version=row["config_version"],
        updated_at=_instant_or_none(row["updated_at"]),
    )


def env_summary_of(row: Row) -> EnvSummary:
    return EnvSummary(
        env=row["env"],
        release=_release_of_json(row["release"]),
        position=row["position"],
        updated_at=_instant_or_none(row["updated_at"]),
    )


def release_row(key: EnvKey, r: ReleaseView) -> tuple[object, ...]:
    return (
        *key,
        r.version,
        r.build_id,
        r.commit,
        r.artifact_digest,
        r.config_version,
        r.status,
        r.rollout_percent,
        r.strategy,
        r.cause,
        r.rollback_of,
        r.promoted_from,
        r.description,
        r.actor,
        timestamp(r.created_at),
    )


def release_of(row: Row) -> ReleaseView:
    return ReleaseView(
        version=row["version"],
        build_id=row["build_id"],
        commit=row["commit_sha"],
        config_version=row["config_version"],
        status=row["status"],
        rollout_percent=row["rollout_percent"],
        rollback_of=row["rollback_of"],
        description=row["description"],
        actor=row["actor"],
        created_at=instant(row["created_at"]),
        artifact_digest=row["artifact_digest"],
        strategy=row["strategy"],
        cause=row["cause"],
        promoted_from=row["promoted_from"],
    )


def history_row(item: HistoryItem) -> tuple[object, ...]:
    return (
        item.position,
        str(item.event_id),
        item.app,
        item.env,
        item.kind,
        item.actor,
        item.actor_kind,
        item.via,
        item.summary,
        item.reason,
        timestamp(item.recorded_at),
        item.correlation_id,
        _json(item.data),
    )


def history_item_of(row: Row) -> HistoryItem:
    return HistoryItem(
        position=row["position"],
        event_id=UUID(row["event_id"]),
        app=row["app"],
        env=row["env"],
        kind=row["kind"],
        actor=row["actor"],
        actor_kind=row["actor_kind"],
        via=row["via"],
        summary=row["summary"],
        reason=row["reason"],
        recorded_at=instant(row["recorded_at"]),
        data=_data.decode(row["data"]),
        correlation_id=row["correlation_id"],
    )
