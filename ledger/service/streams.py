"""The streams a decision reads, loaded through the session: each typed, or None."""

from __future__ import annotations

from ledger.domain.artifacts import ArtifactIndex
from ledger.domain.errors import NotFound
from ledger.domain.model import App, Build, Environment
from ledger.domain.names import app_id, artifact_id, build_id, environment_id, runtime_id
from ledger.domain.runtime import Runtime
from ledger.service.session import Session


def require_app(session: Session, app: str) -> App:
    state = session.get(app_id(app))
    if not isinstance(state, App):
        raise NotFound(f"app {app!r} does not exist; create it with POST /v1/apps", field="app")
    return state


def build_named(session: Session, app: str, bid: str) -> Build | None:
    state = session.get(build_id(app, bid))
    return state if isinstance(state, Build) else None


def artifact_named(session: Session, app: str, digest: str) -> ArtifactIndex | None:
    state = session.get(artifact_id(app, digest))
    return state if isinstance(state, ArtifactIndex) else None


def environment_named(session: Session, app: str, env: str) -> Environment | None:
    state = session.get(environment_id(app, env))
    return state if isinstance(state, Environment) else None


def runtime_named(session: Session, app: str, env: str) -> Runtime | None:
    state = session.get(runtime_id(app, env))
    return state if isinstance(state, Runtime) else None
