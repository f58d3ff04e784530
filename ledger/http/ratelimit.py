"""Per-principal write rate limits: a token bucket each, 429 with Retry-After when empty."""

from __future__ import annotations

import math
import time

from aiohttp import web

from ledger.http.keys import PRINCIPAL, SETTINGS
from ledger.http.problems import Handler


class TokenBucket:
    """Refills ``rate`` tokens a second up to ``burst``; each write takes one."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


RATE_BUCKETS = web.AppKey("rate_buckets", dict[str, TokenBucket])


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Limit the writes of authenticated principals by kind (LEDGER_*_WRITES_PER_MINUTE)."""
    principal = request.get(PRINCIPAL)
    if principal is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return await handler(request)
    settings = request.app[SETTINGS]
    per_minute = settings.writes_per_minute(principal.kind)
    if per_minute <= 0:
        return await handler(request)
    buckets = request.app[RATE_BUCKETS]
    bucket = buckets.get(principal.name)
    if bucket is None:
        bucket = buckets[principal.name] = TokenBucket(per_minute / 60, settings.write_burst)
    wait = bucket.take()
    if wait > 0:
        raise web.HTTPTooManyRequests(
            text=f"{principal.name} is over {per_minute} writes a minute; retry later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    return await handler(request)
