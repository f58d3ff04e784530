"""GET /: the change-visibility dashboard, one self-contained HTML page (inline CSS and
JavaScript, no external assets) that reads the API and follows GET /v1/feed."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from aiohttp import web

POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@cache
def page() -> bytes:
    """The page, read once from the package."""
    return files(__package__).joinpath("index.html").read_bytes()


async def dashboard(_: web.Request) -> web.Response:
    return web.Response(
        body=page(),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": POLICY},
    )
