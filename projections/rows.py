"""Rows of the view tables to and from the wire shapes (ledger.wire.shapes)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from ledger.domain.events import GateFacts
from ledger.domain.model import Environment
from ledger.domain.requests import ChangeRequest, action_of
from ledger.sql.database import Row
from ledger.wire.shapes import AppView, EnvSummary, FlagView, HistoryItem, ReleaseView, StateView
from projections import sql
from projections.projectors import EnvKey, state_view
from projections.request_changes import ProjectedRequest

_flags = msgspec.json.Decoder(dict[str, FlagView])
_config = msgspec.json.Decoder(dict[str, str])
_data = msgspec.json.Decoder(dict[str, Any])
_release = msgspec.json.Decoder(ReleaseView)
_environment = msgspec.json.Decoder(Environment)
_request = msgspec.json.Decoder(ChangeRequest)
_gates = msgspec.json.Decoder(GateFacts)
S = TypeVar("S", bound=msgspec.Struct)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """The text as both databases can store it: NUL and lone surrogates, which PostgreSQL
    refuses (and older versions accepted in events), become U+FFFD."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSTORABLE.sub(REPLACEMENT, text)


def storable_rows(rows: Iterable[Sequence[object]]) -> list[tuple[object, ...]]:
    """The rows with each text value made storable."""
    return [tuple(storable(v) if isinstance(v, str) else v for v in row) for row in rows]


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC text that sorts like the instants it stands for (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # 2025-03-04T14:03:00.000000Z, by isoformat (C) rather than strftime (a rebuild's hot path)
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def instant(text: str) -> datetime:
    """The instant of a ``timestamp`` text (fromisoformat, in C: strptime is a page's hot path)."""
    return datetime.fromisoformat(text)


def _json(value: object) -> str:
    """JSON text as both databases store it (see ``storable``: JSON's own escape of NUL,
    \\u0000, would stop a jsonb cast, and a lone surrogate cannot be encoded at all)."""
    try:
        encoded = msgspec.json.encode(value)
    except UnicodeEncodeError:
        encoded = msgspec.json.encode(_storable_values(value))
    if b"\\u0000" in encoded:
        encoded = msgspec.json.encode(_storable_values(value))
    return encoded.decode()


def _storable_values(value: object) -> object:
    """The value as plain data with each text made storable (for the rare value that needs it)."""
    plain = msgspec.to_builtins(value)
    if isinstance(plain, str):
        return storable(plain)
    if isinstance(plain, dict):
        return {storable(k): _storable_values(v) for k, v in plain.items()}
    if isinstance(plain, list):
        return [_storable_values(v) for v in plain]
    return plain


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
    return _struct_of(
        StateView,
        row,
        release=_release_of_json(row["release"]),
        config=_config.decode(row["config"]),
        flags=_flags.decode(row["flags"]),
        updated_at=_instant_or_none(row["updated_at"]),
        runtime=None,  # not a view column: read from the runtime's stream (ledger.http.runtime)
    )


def env_summary_of(row: Row) -> EnvSummary:
    return _struct_of(
        EnvSummary,
        row,
        release=_release_of_json(row["release"]),
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
        None if r.gates is None else _json(r.gates),
        r.reason,
    )


def release_of(row: Row) -> ReleaseView:
    gates = row["gates"]
    return _struct_of(
        ReleaseView, row, commit=row["commit_sha"], created_at=instant(row["created_at"]),
        gates=None if gates is None else _gates.decode(gates),
    )  # fmt: skip


def request_row(request: ProjectedRequest) -> tuple[object, ...]:
    """The request's values in the order of sql.UPSERT_REQUEST."""
    state = request.state
    return (
        state.request_id,
        state.app,
        state.env,
        action_of(state.command),
        state.status,
        state.requester,
        timestamp(state.requested.timestamp),
        timestamp(state.expires_at),
        state.required,
        len(state.approvals),
        request.requested_position,
        request.position,
        _json(state),
    )


def request_of(row: Row) -> ChangeRequest:
    """The state of a request from its row."""
    return _request.decode(row["request"])


def projected_request_of(row: Row) -> ProjectedRequest:
    return ProjectedRequest(
        state=request_of(row),
        requested_position=row["requested_position"],
        position=row["position"],
    )


def history_row(item: HistoryItem) -> tuple[object, ...]:
    """The item's values in the order of sql.HISTORY_COLUMNS."""
    converted = {
        "event_id": str(item.event_id),
        "recorded_at": timestamp(item.recorded_at),
        "data": _json(item.data),
    }
    return tuple(converted.get(c, getattr(item, c)) for c in sql.HISTORY_COLUMNS)


def history_items_of(rows: Iterable[Row]) -> list[HistoryItem]:
    """History items from rows whose columns bear their fields' names. msgspec converts the
    ids and times from their text in C, and each item's data from its JSON."""
    plain = [{**row, "data": _data.decode(row["data"])} for row in rows]
    return msgspec.convert(plain, list[HistoryItem])


def _struct_of(cls: type[S], row: Row, **converted: object) -> S:
    """A wire shape from a row whose columns bear its fields' names, but for those converted."""
    plain = {name: row[name] for name in cls.__struct_fields__ if name not in converted}
    return cls(**plain, **converted)
