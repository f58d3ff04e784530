"""Hand-built events for the projector and summary tests: no decisions, no database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.domain.chain import GENESIS
from ledger.domain.events import (
    AppCreated,
    Artifact,
    BuildRecorded,
    CommandDenied,
    ConfigChanged,
    EventRef,
    FlagChanged,
    IdempotencyRecorded,
    LedgerEvent,
    MigrationApplied,
    ReleaseCreated,
    ReleaseFacts,
    RolloutProgressed,
)
from ledger.domain.names import app_id, build_id, denials_id, environment_id, idempotency_id

APP = "shop"
COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
START = datetime(2025, 3, 4, 14, 3, tzinfo=UTC)


class Events:
    """Events of the app "shop", one second apart, each the next of its stream."""

    def __init__(self) -> None:
        self.now = START
        self.versions: Counter[UUID] = Counter()

    def _meta(
        self, stream: UUID, env: str | None, actor: str, reason: str | None
    ) -> dict[str, Any]:
        self.now += timedelta(seconds=1)
        self.versions[stream] += 1
        return {
            "originator_id": stream,
            "originator_version": self.versions[stream],
            "timestamp": self.now,
            "event_id": uuid4(),
            "app": APP,
            "env": env,
            "actor": actor,
            "actor_kind": "ci" if actor == "ci-bot" else "human",
            "via": "http",
            "reason": reason,
            "occurred_at": self.now,
            "correlation_id": "run-7" if actor == "ci-bot" else None,
            "prev_hash": GENESIS,
        }

    def _env(self, env: str, actor: str, reason: str | None) -> dict[str, Any]:
        return self._meta(environment_id(APP, env), env, actor, reason)

    def app(self, actor: str = "alice", description: str | None = None) -> AppCreated:
        return AppCreated(**self._meta(app_id(APP), None, actor, None), description=description)

    def build(self, bid: str = "b1", status: str = "succeeded") -> BuildRecorded:
        return BuildRecorded(
            **self._meta(build_id(APP, bid), None, "ci-bot", None),
            build_id=bid,
            commit=COMMIT,
            artifact=Artifact(digest="sha256:" + "ab" * 32),
            status=status,
        )

    def config(
        self,
        env: str,
        version: int,
        config_version: int,
        *,
        set: dict[str, str] | None = None,
        unset: tuple[str, ...] = (),
        secret: tuple[str, ...] = (),
        actor: str = "ci-bot",
        build: str | None = None,
    ) -> ConfigChanged:
        facts = ReleaseFacts(
            version=version,
            build_id=build,
            commit=COMMIT if build else None,
            artifact_digest=None,
            config_version=config_version,
            status="succeeded",
            rollout_percent=100,
        )
        return ConfigChanged(
            **self._env(env, actor, None),
            set=set or {},
            unset=unset,
            secret_keys=secret,
            release=facts,
        )

    def release(
        self,
        env: str,
        version: int,
        *,
        cause: str = "deploy",
        config_version: int = 1,
        steps: tuple[int, ...] = (),
        actor: str = "ci-bot",
        reason: str | None = None,
        rollback_of: int | None = None,
        promoted_from: str | None = None,
        restored_config: dict[str, str] | None = None,
        restored_secret_keys: tuple[str, ...] | None = None,
        crossed: tuple[str, ...] = (),
    ) -> ReleaseCreated:
        facts = ReleaseFacts(
            version=version,
            build_id="b1",
            commit=COMMIT,
            artifact_digest="sha256:ab",
            config_version=config_version,
            status="rolling_out" if steps else "succeeded",
            rollout_percent=steps[0] if steps else 100,
            strategy="canary" if steps else "all",
            steps=steps,
            rollback_of=rollback_of,
            promoted_from=promoted_from,
        )
        return ReleaseCreated(
            **self._env(env, actor, reason),
            cause=cause,
            release=facts,
            restored_config=restored_config,
            restored_secret_keys=restored_secret_keys,
            forced=bool(crossed),
            crossed_migrations=crossed,
        )

    def rollout(self, env: str, version: int, percent: int, status: str) -> RolloutProgressed:
        return RolloutProgressed(
            **self._env(env, "ci-bot", None),
            version=version,
            percent=percent,
            status=status,
        )

    def flag(
        self, env: str, flag: str, enabled: bool, percent: int | None = None, actor: str = "bob"
    ) -> FlagChanged:
        return FlagChanged(
            **self._env(env, actor, None), flag=flag, enabled=enabled, rollout_percent=percent
        )

    def migration(self, env: str, mid: str, schema: str, reversible: bool) -> MigrationApplied:
        return MigrationApplied(
            **self._env(env, "ci-bot", None),
            migration_id=mid,
            schema_version=schema,
            reversible=reversible,
        )

    def idempotency(self, of: LedgerEvent) -> IdempotencyRecorded:
        return IdempotencyRecorded(
            **self._meta(idempotency_id("key:k1"), None, of.actor, None),
            key="key:k1",
            request_digest="d",
            response='{"position":0}',
            refs=(EventRef(of.originator_id, of.originator_version),),
        )

    def denied(self, env: str | None, command: str, detail: str) -> CommandDenied:
        return CommandDenied(
            **self._meta(denials_id(APP, env), env, "bob", None), command=command, detail=detail
        )


@pytest.fixture
def events() -> Events:
    return Events()
