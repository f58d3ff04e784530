"""Every object the HTTP app shares, behind a typed key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ledger.application import LedgerStore
from ledger.settings import Settings
from ledger.tokens import Principal, Tokens
from ledger.writer import Writer

if TYPE_CHECKING:
    from ledger.bootstrap import Ledger
    from ledger.feed import FeedHub
    from ledger.http.metrics import HttpMetrics
    from projections.views import Views

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", LedgerStore)
WRITER = web.AppKey("writer", Writer)
VIEWS: web.AppKey[Views] = web.AppKey("views")
TOKENS = web.AppKey("tokens", Tokens)
LEDGER: web.AppKey[Ledger] = web.AppKey("ledger")
METRICS: web.AppKey[HttpMetrics] = web.AppKey("metrics")
FEED: web.AppKey[FeedHub] = web.AppKey("feed")
PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")
