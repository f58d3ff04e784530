"""Decisions on an App stream."""

from __future__ import annotations

from datetime import datetime

from ledger.domain import commands as c
from ledger.domain.decisions.streams import new_event
from ledger.domain.errors import Conflict
from ledger.domain.events import AppCreated
from ledger.domain.model import App
from ledger.domain.names import app_id


def create_app(app: App | None, cmd: c.CreateApp, ctx: c.Context, now: datetime) -> AppCreated:
    if app is not None:
        raise Conflict(f"app {cmd.app!r} already exists", field="name")
    return new_event(
        AppCreated, None, app_id(cmd.app), ctx, now, app=cmd.app, description=cmd.description
    )
