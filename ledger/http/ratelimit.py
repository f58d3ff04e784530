"""Per-principal write rate limits: a token bucket each, 429 with Retry-After when empty."""

from __future__ import annotations

import math
import time

from aiohttp import web

from ledger.http.keys import PRINCIPAL, SETTINGS
from ledger.http.routing import Handler


class TokenBucket:
    """Refills ``rate`` tokens a second up to ``burst``; each write takes one."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self, count: int = 1) -> tuple[int, float]:
        """Take up to ``count`` tokens: how many were taken, and (when fewer than asked) the
        seconds until the next one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        taken = min(count, math.floor(self.tokens))
        self.tokens -= taken
        if taken == count:
            return taken, 0.0
        return taken, (1 - self.tokens) / self.rate


RATE_BUCKETS = web.AppKey("rate_buckets", dict[str, TokenBucket])


def take_writes(request: web.Request, count: int) -> tuple[int, float]:
    """How many of ``count`` writes the request's principal may make now, and (when fewer)
    the seconds until the next one; unlimited for open mode and for kinds without a limit."""
    principal = request.get(PRINCIPAL)
    if principal is None:
        return count, 0.0
    settings = request.app[SETTINGS]
    per_minute = settings.writes_per_minute(principal.kind)
    if per_minute <= 0:
        return count, 0.0
    buckets = request.app[RATE_BUCKETS]
    bucket = buckets.get(principal.name)
    if bucket is None:
        bucket = buckets[principal.name] = TokenBucket(per_minute / 60, settings.write_burst)
    return bucket.take(count)


def over_limit(request: web.Request, wait: float) -> str:
    """What a refused write is told (LEDGER_*_WRITES_PER_MINUTE)."""
    principal = request[PRINCIPAL]
    assert principal is not None  # only principals are limited
    per_minute = request.app[SETTINGS].writes_per_minute(principal.kind)
    return f"{principal.name} is over {per_minute} writes a minute; retry in {math.ceil(wait)}s"


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Each write request takes one token of its principal's bucket (a batch takes one more
    for each further item, in its handler)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return await handler(request)
    taken, wait = take_writes(request, 1)
    if not taken:
        raise web.HTTPTooManyRequests(
            text=over_limit(request, wait), headers={"Retry-After": str(math.ceil(wait))}
        )
    return await handler(request)
