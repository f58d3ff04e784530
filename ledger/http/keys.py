"""The objects the HTTP app's modules share, behind a typed key (state of one module alone,
such as the metrics registry or the rate buckets, keeps its key in that module)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ledger.eventstore.application import LedgerStore
from ledger.service.tokens import Principal, Tokens
from ledger.service.writer import Writer
from ledger.settings import Settings

if TYPE_CHECKING:
    from ledger.bootstrap import Ledger
    from ledger.service.feed import FeedHub
    from projections.views import Views

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", LedgerStore)
WRITER = web.AppKey("writer", Writer)
VIEWS: web.AppKey[Views] = web.AppKey("views")
TOKENS = web.AppKey("tokens", Tokens)
LEDGER: web.AppKey[Ledger] = web.AppKey("ledger")
FEED: web.AppKey[FeedHub] = web.AppKey("feed")
PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")
